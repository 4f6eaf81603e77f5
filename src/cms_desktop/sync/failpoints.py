"""Named crash points for the kill -9 tests: ``CMS_FAILPOINT=name`` kills the process there.

The process sends itself SIGKILL: no cleanup, no flush, exactly a ``kill -9`` (or a power
cut, as far as the database is concerned) at that line.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "CMS_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
