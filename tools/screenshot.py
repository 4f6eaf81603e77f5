"""Look at the real app as a person would: log in on a data directory, run steps, save PNGs.

    xvfb-run -a -s '-screen 0 1366x768x24' .venv/bin/python tools/screenshot.py \\
        DATA_DIR LOGIN [STEP ...]

Steps, in order: ``area=KEY`` (agenda, patients, printing, admin, sync), ``wait=MS``,
``shot=FILE.png`` (the main window), ``py=CODE`` (Python with ``w`` = the main window).
The password is the demo one unless ``CMS_PASSWORD`` is set. A development aid, not part
of the app; nothing it does bypasses the services (it types in the login window).
"""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from cms_desktop import app as appmod
from cms_desktop.services.demo_accounts import DEMO_PASSWORD
from cms_desktop.storage.datadir import DataDir
from cms_desktop.ui.shell import AppShell
from cms_desktop.ui.tasks import ThreadedTaskRunner


def main() -> None:
    data_dir, login, *steps = sys.argv[1:]
    directory = DataDir(Path(data_dir))
    qapp = appmod._application()
    runner = ThreadedTaskRunner(qapp)
    shell = AppShell(
        partial(appmod._login, directory),
        partial(appmod._recover_access, directory),
        runner,
        None,
        qapp,
        with_backups=True,  # as the application: the backup line in the status bar
    )
    shell.start()

    def run(window: Any, index: int = 0) -> None:
        if index >= len(steps):
            print("done", flush=True)
            os._exit(0)
        kind, _, arg = steps[index].partition("=")
        delay = 50
        try:
            if kind == "area":
                window.show_area(arg)
            elif kind == "wait":
                delay = int(arg)
            elif kind == "shot":
                window.grab().save(arg)
                print("saved", arg, flush=True)
            elif kind == "py":
                exec(arg, {"w": window, "qapp": qapp})
            else:
                print("unknown step", steps[index], flush=True)
        except Exception as exc:  # a development aid: report and go on
            print("step failed", steps[index], repr(exc), flush=True)
        QTimer.singleShot(delay, lambda: run(window, index + 1))

    def shown(window: Any) -> None:
        window.resize(1366, 740)
        QTimer.singleShot(1500, lambda: run(window))

    def log_in() -> None:
        form = shell.login_window
        form.login_edit.setText(login)
        form.password_edit.setText(os.environ.get("CMS_PASSWORD", DEMO_PASSWORD))
        form.submit()

    shell.sig_main_window_shown.connect(shown)
    QTimer.singleShot(500, log_in)
    QTimer.singleShot(120_000, lambda: (print("timeout", flush=True), os._exit(1)))
    qapp.exec()


if __name__ == "__main__":
    main()
