"""Run a test with the workstation's time zone set (TZ + time.tzset), then restore it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

ZONES = ("UTC", "Europe/Paris", "America/Cayenne")


@pytest.fixture(params=ZONES)
def machine_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
