"""Named crash points for the kill -9 tests: ``CMS_FAILPOINT=name`` makes the process exit there.

``os._exit`` skips every cleanup and flush, like a power cut seen from the database's side.
"""

from __future__ import annotations

import os

ENV_VAR = "CMS_FAILPOINT"
EXIT_CODE = 86


def failpoint(name: str) -> None:
    if os.environ.get(ENV_VAR) == name:
        os._exit(EXIT_CODE)
