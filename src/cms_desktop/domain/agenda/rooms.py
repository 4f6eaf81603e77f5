"""Rooms of the centre: their kinds, the usual layout proposed at set-up, and the rules on
their names. Pure: the storage keeps the rows, this module says what a valid room is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_ROOM_NAME = 100


class RoomKind(StrEnum):
    """What a room is used for; the value is the stored code (the demo uses the same ones)."""

    CONSULTING = "consulting"
    NURSING = "nursing"
    DENTAL = "dental"
    MEETING = "meeting"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    RoomKind.CONSULTING: "Cabinet médical",
    RoomKind.NURSING: "Infirmerie",
    RoomKind.DENTAL: "Cabinet dentaire",
    RoomKind.MEETING: "Salle de réunion",
    RoomKind.OTHER: "Autre",
}


def room_kind_label(code: str) -> str:
    """The French label of a stored kind; an unknown code (a newer station's) as it is."""
    try:
        return RoomKind(code).label
    except ValueError:
        return code


@dataclass(frozen=True)
class RoomDraft:
    name: str
    kind: RoomKind = RoomKind.CONSULTING


# The usual layout of a CMS (the Alençon centre): six consulting rooms and a nurse's room.
DEFAULT_LAYOUT: tuple[RoomDraft, ...] = (
    *(RoomDraft(f"Cabinet {n}", RoomKind.CONSULTING) for n in range(1, 7)),
    RoomDraft("Salle de soins", RoomKind.NURSING),
)


class InvalidRoom(ValueError):
    """A room name or layout that cannot be saved; the message is French."""


def clean_room_name(name: str) -> str:
    """The name as stored (spaces trimmed and collapsed); refuses an empty or long one."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidRoom("Indiquez le nom de la salle.")
    if len(cleaned) > MAX_ROOM_NAME:
        raise InvalidRoom(f"Le nom de la salle est trop long ({MAX_ROOM_NAME} caractères au plus).")
    return cleaned


def room_name_key(name: str) -> str:
    """Two names with the same key are the same room to a person (« cabinet 1 » = « Cabinet 1 »)."""
    return " ".join(name.split()).casefold()


def check_layout(rooms: tuple[RoomDraft, ...] | list[RoomDraft]) -> tuple[RoomDraft, ...]:
    """Cleaned names, in order; refuses a blank name or the same name twice."""
    seen: dict[str, str] = {}
    cleaned: list[RoomDraft] = []
    for room in rooms:
        name = clean_room_name(room.name)
        key = room_name_key(name)
        if key in seen:
            raise InvalidRoom(f"La salle « {name} » figure deux fois.")
        seen[key] = name
        cleaned.append(RoomDraft(name, RoomKind(room.kind)))
    return tuple(cleaned)
