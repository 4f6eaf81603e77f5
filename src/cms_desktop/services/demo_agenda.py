"""Demo agenda: Alençon hours, the demo practitioners in the 8 demo rooms, a visiting
cardiologist (4 h a week) and the vaccination team (3rd Wednesday), four weeks of history
and four weeks ahead, today's waiting room, and 40 people on the médecin-traitant list.
Synthetic data only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from cms_desktop.domain.agenda.appointments import AppointmentType
from cms_desktop.domain.agenda.waiting_room import VisitStatus
from cms_desktop.services.access import no_actor
from cms_desktop.services.agenda.common import (
    load_calendar,
    load_schedules,
    local_now,
    to_utc,
)
from cms_desktop.services.agenda.settings import ensure_defaults
from cms_desktop.services.workspace import Workspace
from cms_desktop.storage import repositories
from cms_desktop.storage.models import (
    Appointment,
    Patient,
    Practitioner,
    PractitionerRange,
    Room,
    WaitingListEntry,
)

_FULL_DAYS = ((0, 1, 3, 4), (time(9), time(12, 40)), (time(13, 40), time(19)))


@dataclass(frozen=True)
class _Plan:
    login: str | None
    name: str
    title: str
    profession: str
    specialty: str
    colour: str
    room: str
    kinds: tuple[AppointmentType, ...]
    visiting: bool = False


_PLANS = (
    _Plan(
        "dr.moreau",
        "Claire Moreau",
        "Dr",
        "Médecin",
        "Médecine générale",
        "#4f81bd",
        "Cabinet 1",
        (
            AppointmentType.CONSULTATION,
            AppointmentType.LONG_CONSULTATION,
            AppointmentType.UNSCHEDULED,
        ),
    ),
    _Plan(
        "dr.benali",
        "Karim Benali",
        "Dr",
        "Médecin",
        "Médecine générale",
        "#c0504d",
        "Cabinet 2",
        (AppointmentType.CONSULTATION, AppointmentType.UNSCHEDULED),
    ),
    _Plan(
        "dr.lefort",
        "Anne Lefort",
        "Dr",
        "Médecin",
        "Gynécologie médicale",
        "#8064a2",
        "Cabinet 3",
        (AppointmentType.CONSULTATION, AppointmentType.LONG_CONSULTATION),
    ),
    _Plan(
        "inf.roux",
        "Julien Roux",
        "",
        "Infirmier",
        "",
        "#4bacc6",
        "Salle de soins infirmiers",
        (AppointmentType.NURSING_CARE, AppointmentType.VACCINATION),
    ),
    _Plan(
        "dentiste",
        "Marie Caron",
        "Dr",
        "Chirurgien-dentiste",
        "",
        "#f79646",
        "Cabinet 4",
        (AppointmentType.CONSULTATION, AppointmentType.LONG_CONSULTATION),
    ),
    _Plan(
        "kine",
        "Paul Girard",
        "",
        "Masseur-kinésithérapeute",
        "",
        "#9bbb59",
        "Cabinet 5",
        (AppointmentType.LONG_CONSULTATION,),
    ),
    _Plan(
        None,
        "Sylvie Marchand",
        "Dr",
        "Médecin",
        "Cardiologie",
        "#1f4e79",
        "Cabinet 6",
        (AppointmentType.CONSULTATION,),
        visiting=True,
    ),
    _Plan(
        None,
        "Équipe mobile de vaccination",
        "",
        "Infirmier",
        "Vaccination",
        "#7030a0",
        "Cabinet 6",
        (AppointmentType.VACCINATION,),
        visiting=True,
    ),
)


def _ranges(plan: _Plan, practitioner_id: str, room_id: str) -> list[PractitionerRange]:
    def rng(weekday: int, start: time, end: time, **kw: object) -> PractitionerRange:
        return PractitionerRange(
            practitioner_id=practitioner_id,
            weekday=weekday,
            start_time=f"{start:%H:%M}",
            end_time=f"{end:%H:%M}",
            room_id=room_id,
            **kw,
        )

    if plan.name == "Sylvie Marchand":
        return [rng(3, time(14), time(18))]  # 4 h a week, Thursday afternoon
    if plan.name.startswith("Équipe"):
        # The centre is closed on Wednesdays: the team comes on its own hours.
        return [rng(2, time(9), time(12), pattern="nth_of_month", nth=3, own_hours=True)]
    _, morning, afternoon = _FULL_DAYS
    days: tuple[int, ...] = (0, 1, 3) if plan.login == "dr.lefort" else _FULL_DAYS[0]
    rows = [rng(d, *span) for d in days for span in (morning, afternoon)]
    if plan.login in ("dr.moreau", "inf.roux"):
        rows.append(rng(5, time(9), time(12)))  # the Saturday rota
    return rows


def _setup_practitioners(session: Session) -> list[Practitioner]:
    rooms = {r.name: r.id for r in session.scalars(select(Room))}
    created = []
    for order, plan in enumerate(_PLANS):
        user = repositories.user_by_login(session, plan.login) if plan.login else None
        # A clinician's account already came with its agenda column: complete that one.
        existing = (
            session.scalars(select(Practitioner).where(Practitioner.user_id == user.id)).first()
            if user
            else None
        )
        p = existing or Practitioner(user_id=user.id if user else None)
        p.full_name = plan.name
        p.title = plan.title
        p.profession = plan.profession
        p.specialty = plan.specialty
        p.colour = plan.colour
        p.visiting = plan.visiting
        p.sort_order = order
        p.rpps = user.rpps if user else ""
        session.add(p)
        session.flush()
        session.add_all(_ranges(plan, p.id, rooms[plan.room]))
        created.append(p)
    session.flush()
    return created


_REASONS = ("", "", "Renouvellement", "Suivi", "Résultats d'analyses", "Certificat", "Contrôle")


def _status(row: Appointment, now: datetime, rng: random.Random) -> None:
    """Past and current appointments get waiting-room times that fit the clock."""
    start, end = row.start_at, row.end_at
    now_utc = to_utc(now)
    if start > now_utc + timedelta(minutes=15):
        return
    roll = rng.random()
    if end <= now_utc and roll < 0.04:
        row.status, row.no_show_at = VisitStatus.NO_SHOW.value, end
        return
    if end <= now_utc and roll < 0.07:
        row.status, row.cancelled_at = VisitStatus.CANCELLED.value, start - timedelta(days=1)
        row.cancel_reason = "Annulé par le patient"
        return
    arrived = start - timedelta(minutes=rng.randint(0, 15))
    if arrived > now_utc:
        return
    row.status, row.arrived_at = VisitStatus.ARRIVED.value, arrived
    called = start + timedelta(minutes=rng.randint(0, 12))
    if called > now_utc:
        return
    row.status, row.called_at = VisitStatus.IN_CONSULTATION.value, called
    if end + timedelta(minutes=5) <= now_utc:
        row.status, row.seen_at = VisitStatus.SEEN.value, end + timedelta(minutes=5)


def _fill(
    session: Session,
    practitioners: list[Practitioner],
    patient_ids: list[str],
    rng: random.Random,
    now: datetime,
) -> int:
    calendar = load_calendar(session)
    first, last = now.date() - timedelta(days=28), now.date() + timedelta(days=28)
    schedules = load_schedules(session, practitioners, first, last)
    plans = {p.full_name: plan for p, plan in zip(practitioners, _PLANS, strict=True)}
    booked_at = datetime.now(UTC) - timedelta(days=35)
    count = 0
    day = first
    while day <= last:
        distance = (day - now.date()).days
        fill = 0.85 if distance <= 0 else max(0.25, 0.8 - distance * 0.02)
        for p in practitioners:
            plan = plans[p.full_name]
            for available in schedules[p.id].available_ranges(day, calendar):
                cursor = available.start
                while True:
                    kind = rng.choice(plan.kinds)
                    if kind == AppointmentType.UNSCHEDULED and distance > 0:
                        kind = AppointmentType.CONSULTATION  # released on the day only
                    end = cursor + kind.default_length
                    if end > available.end:
                        break
                    if rng.random() < fill and patient_ids:
                        row = Appointment(
                            practitioner_id=p.id,
                            room_id=available.room_id,
                            patient_id=rng.choice(patient_ids),
                            type_code=kind.value,
                            start_at=to_utc(cursor),
                            end_at=to_utc(end),
                            reason=rng.choice(_REASONS),
                            booked_at=booked_at,
                        )
                        _status(row, now, rng)
                        session.add(row)
                        count += 1
                    cursor = end
        day += timedelta(days=1)
    return count


def _waiting_list(session: Session, rng: random.Random, seed: int, today: date) -> None:
    fake = Faker("fr_FR")
    fake.seed_instance(seed + 4)
    for _ in range(40):
        birth = fake.date_of_birth(minimum_age=0, maximum_age=92)
        session.add(
            WaitingListEntry(
                family_name=fake.last_name(),
                given_name=fake.first_name(),
                birth_date=birth,
                phone=f"+336{rng.randint(10_000_000, 99_999_999)}",
                registered_on=today - timedelta(days=rng.randint(0, 540)),
                priority=1
                if birth.year < today.year - 75 or birth.year > today.year - 2
                else rng.choice((2, 3, 3, 3)),
            )
        )


@no_actor("builds the demo centre only")
def add_demo_agenda(ws: Workspace, seed: int = 2026) -> None:
    """Fill the demo centre's agenda (call once, after the rooms, users and patients)."""
    rng = random.Random(seed)
    now = local_now()
    with ws.store.write() as session:
        ensure_defaults(session)
        practitioners = _setup_practitioners(session)
        patient_ids = list(
            session.scalars(
                select(Patient.id)
                .where(Patient.deleted.is_(False))
                .order_by(Patient.id)
                .limit(3000)
            )
        )
        _fill(session, practitioners, patient_ids, rng, now)
        _waiting_list(session, rng, seed, now.date())
