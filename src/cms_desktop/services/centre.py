"""The centre's details printed on every document (name, address, phone, FINESS, logo):
read and changed by the administrator, audited, replicated like any setting.

Printouts read them when they are made; a stored prescription keeps the bytes it printed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from cms_desktop.domain.permissions import Permission
from cms_desktop.services.access import requires
from cms_desktop.services.actor import Actor
from cms_desktop.services.errors import NotFound, ValidationFailed
from cms_desktop.services.setup import CentreDraft, validate_centre
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import audit, repositories

__all__ = ["CentreDetails", "ValidationFailed", "check_logo", "get_details", "update_details"]

MAX_LOGO_BYTES = 512 * 1024  # a logo printed 30 mm wide needs far less


@dataclass(frozen=True)
class CentreDetails:
    name: str
    address: str
    postcode: str
    city: str
    phone: str
    finess: str
    logo_png: bytes | None
    is_demo: bool = False


@requires(Permission.SETTINGS_MANAGE)
def get_details(ws: Workspace, actor: Actor) -> CentreDetails:
    actor.require(Permission.SETTINGS_MANAGE)
    with ws.store.read() as session:
        centre = repositories.centre(session)
        if centre is None:
            raise NotFound("Les informations du centre sont introuvables.")
        return CentreDetails(
            centre.name,
            centre.address,
            centre.postcode,
            centre.city,
            centre.phone,
            centre.finess,
            centre.logo_png,
            centre.is_demo,
        )


def check_logo(png: bytes) -> None:
    """A PNG that can be read and is not huge; refused in French otherwise."""
    if len(png) > MAX_LOGO_BYTES:
        raise ValidationFailed("Le logo est trop lourd (512 Ko au plus).")
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                raise ValidationFailed("Le logo doit être une image PNG.")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationFailed("Le logo doit être une image PNG lisible.") from None


@requires(Permission.SETTINGS_MANAGE)
def update_details(ws: Workspace, actor: Actor, details: CentreDetails) -> CentreDetails:
    """Change the printed details; every field is checked before anything is written."""
    actor.require(Permission.SETTINGS_MANAGE)
    clean = CentreDetails(
        details.name.strip(),
        details.address.strip(),
        details.postcode.strip(),
        details.city.strip(),
        details.phone.strip(),
        details.finess.strip().upper(),
        details.logo_png,
    )
    validate_centre(
        CentreDraft(clean.name, clean.address, clean.postcode, clean.city, clean.phone,
                    clean.finess, rooms=())
    )  # fmt: skip
    if clean.postcode and not (clean.postcode.isdigit() and len(clean.postcode) == 5):
        raise ValidationFailed("Le code postal compte 5 chiffres.")
    if clean.logo_png is not None:
        check_logo(clean.logo_png)
    with ws.store.write() as session:
        centre = repositories.centre(session)
        if centre is None:
            raise NotFound("Les informations du centre sont introuvables.")
        changed = [
            field
            for field in ("name", "address", "postcode", "city", "phone", "finess", "logo_png")
            if getattr(centre, field) != getattr(clean, field)
        ]
        for field in changed:
            setattr(centre, field, getattr(clean, field))
        session.flush()
        if changed:
            audit.append(
                session,
                ws.store.station_id,
                "centre_changed",
                user_id=actor.user_id,
                user_login=actor.login,
                target_type="centre",
                target_id=centre.id,
                details={"fields": ",".join(changed)},
            )
        return CentreDetails(**{**clean.__dict__, "is_demo": centre.is_demo})
