"""What the application shell shows about the open centre (name, auto-lock delay)."""

from __future__ import annotations

from dataclasses import dataclass

from cms_desktop.services.access import no_actor
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import repositories

DEFAULT_AUTO_LOCK_MINUTES = 10


@dataclass(frozen=True)
class CentreSummary:
    name: str
    auto_lock_minutes: int


@no_actor("the centre's name for the login window")
def centre_summary(ws: Workspace) -> CentreSummary:
    """The centre's name and screen auto-lock delay (not secret: shown to every role)."""
    with ws.store.read() as session:
        centre = repositories.centre(session)
        if centre is None:
            return CentreSummary("", DEFAULT_AUTO_LOCK_MINUTES)
        minutes = centre.auto_lock_minutes or DEFAULT_AUTO_LOCK_MINUTES
        return CentreSummary(centre.name, max(1, minutes))
