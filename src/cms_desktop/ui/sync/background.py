"""Starts the LAN sync service with the main window, off the UI thread, and stops it before
the store closes. A workstation that was never paired simply shows « non configurée »."""

from __future__ import annotations

import logging

from cms_desktop.services.workspace import Workspace
from cms_desktop.sync.identity import load_credentials
from cms_desktop.sync.service import AlreadyServing, SyncService
from cms_desktop.ui.sync.status import SyncStatusBridge

log = logging.getLogger(__name__)


class BackgroundSync:
    """Owns the running service of one logged-in session (the database key is in memory
    only while someone is logged in or the screen is locked; ``sync serve`` covers nights)."""

    def __init__(self, workspace: Workspace) -> None:
        self.bridge = SyncStatusBridge()
        self.service: SyncService | None = None
        self.error = ""
        self._workspace = workspace

    def start(self) -> bool:
        """True when the service runs; False (with ``error`` set) when it could not start."""
        if load_credentials(self._workspace.store) is None:
            return False
        try:
            self.service = SyncService(self._workspace.store, on_status=self.bridge.publish).start()
        except AlreadyServing:  # « sync serve » left running: it pushes what is typed here
            self.error = (
                "Synchronisation : assurée par le service « sync serve » ouvert sur ce poste"
            )
            self.service = None
            return False
        except OSError as exc:  # the port is taken, the network is down…
            log.warning("Sync service not started: %s", type(exc).__name__)
            self.error = (
                "Synchronisation : arrêtée (le port réseau est indisponible ; "
                "prévenez l'administrateur)"
            )
            self.service = None
            return False
        self.bridge.publish(self.service.status())
        return True

    def request_pass(self) -> None:
        if self.service is not None:
            self.service.request_pass()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None
