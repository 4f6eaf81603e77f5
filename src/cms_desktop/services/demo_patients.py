"""Synthetic demo patients with full identity and coverage (Faker fr_FR; nobody real)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from faker import Faker

from cms_desktop.domain.names import normalize_name
from cms_desktop.domain.nir import compute_nir_key
from cms_desktop.storage.models import Patient, PatientAld, new_id

# INSEE codes (99xxx) of a few countries of birth.
COUNTRIES = (
    ("350", "Maroc"),
    ("352", "Algérie"),
    ("351", "Tunisie"),
    ("139", "Portugal"),
    ("341", "Sénégal"),
    ("208", "Turquie"),
    ("134", "Espagne"),
)
ALDS = (
    ("8", "Diabète de type 2"),
    ("12", "Hypertension artérielle sévère"),
    ("30", "Tumeur maligne du sein"),
    ("14", "Insuffisance respiratoire chronique grave"),
    ("5", "Insuffisance cardiaque grave"),
    ("23", "Affection psychiatrique de longue durée"),
)
INSURERS = ("MGEN", "Harmonie Mutuelle", "MAAF Santé", "Mutuelle Générale", "AG2R La Mondiale")
RELATIONS = ("conjoint", "fille", "fils", "mère", "père", "voisin(e)")


def _mobile(rng: random.Random) -> str:
    return f"+33{rng.choice('67')}" + "".join(str(rng.randint(0, 9)) for _ in range(8))


class _Pools:
    """Faker is slow per call: draw from pools made once, with the seeded ``rng``."""

    def __init__(self, fake: Faker, rng: random.Random) -> None:
        self.rng = rng
        self.last = [fake.last_name() for _ in range(800)]
        self.female = [fake.first_name_female() for _ in range(300)]
        self.male = [fake.first_name_male() for _ in range(300)]
        self.cities = [fake.city() for _ in range(200)]
        self.streets = [fake.street_address() for _ in range(400)]
        self.postcodes = [fake.postcode() for _ in range(200)]
        self.domains = ("example.org", "example.net", "example.com")

    def pick(self, items: list[str]) -> str:
        return items[self.rng.randrange(len(items))]


def demo_patient_rows(
    fake: Faker, rng: random.Random, count: int, today: date, doctor_ids: list[str]
) -> tuple[list[Patient], list[PatientAld]]:
    """``count`` patients and their ALD rows, ready to add to a session."""
    pools = _Pools(fake, rng)
    pick = pools.pick
    patients: list[Patient] = []
    alds: list[PatientAld] = []
    for _ in range(count):
        sex = "F" if rng.random() < 0.52 else "M"
        first = pick(pools.female if sex == "F" else pools.male)
        birth = today - timedelta(days=rng.randint(0, 95 * 365))
        abroad = rng.random() < 0.12
        if abroad:
            dept, (commune, country) = "99", rng.choice(COUNTRIES)
            place_code, place_label = f"99{commune}", ""
        else:
            dept, commune, country = f"{rng.randint(1, 95):02d}", f"{rng.randint(1, 400):03d}", ""
            place_code, place_label = f"{dept}{commune}", pick(pools.cities)
        first13 = f"{1 if sex == 'M' else 2}{birth:%y%m}{dept}{commune}{rng.randint(1, 999):03d}"
        nir = first13 + f"{compute_nir_key(first13):02d}" if rng.random() < 0.9 else ""
        status = rng.choice(["provisional", "validated", "validated"])
        adult = (today - birth).days >= 18 * 365
        with_contact = rng.random() < 0.3 or not adult
        patient = Patient(
            id=new_id(),
            birth_name=pick(pools.last).upper(),
            used_name=pick(pools.last).upper() if sex == "F" and rng.random() < 0.3 else "",
            first_given_name=first,
            given_names=first
            if rng.random() < 0.6
            else f"{first} {pick(pools.female if sex == 'F' else pools.male)}",
            birth_date=birth,
            sex=sex,
            birth_place_code=place_code,
            birth_place_label=place_label,
            birth_country=country,
            identity_status=status,
            identity_document=rng.choice(["passport", "national_id_card", "residence_permit"])
            if status == "validated"
            else "",
            identity_checked_on=today - timedelta(days=rng.randint(0, 900))
            if status == "validated"
            else None,
            nir=nir,
            scheme="Régime général" if rng.random() < 0.9 else "MSA (agricole)",
            c2s_until=today + timedelta(days=rng.randint(30, 365)) if rng.random() < 0.1 else None,
            ame_until=today + timedelta(days=rng.randint(30, 365))
            if not nir and rng.random() < 0.5
            else None,
            complementary_insurer=rng.choice(INSURERS) if rng.random() < 0.7 else "",
            complementary_number=str(rng.randint(10**7, 10**8)),
            address=pick(pools.streets),
            postcode=pick(pools.postcodes),
            city=pick(pools.cities),
            phone_mobile=_mobile(rng),
            email=f"{normalize_name(first).lower().replace(' ', '-')}.{rng.randint(1, 999)}@{rng.choice(pools.domains)}"
            if rng.random() < 0.5
            else "",
            contact_name=f"{pick(pools.female)} {pick(pools.last)}" if with_contact else "",
            contact_relation=rng.choice(RELATIONS) if with_contact else "",
            contact_phone=_mobile(rng) if with_contact else "",
            gp_user_id=rng.choice(doctor_ids) if doctor_ids and rng.random() < 0.8 else None,
            gp_outside_name=""
            if rng.random() < 0.8
            else f"Dr {pick(pools.last)}, {pick(pools.cities)}",
        )
        if patient.gp_user_id:
            patient.gp_outside_name = ""
        if not patient.complementary_insurer:
            patient.complementary_number = ""
        patients.append(patient)
        if rng.random() < 0.08:
            code, label = rng.choice(ALDS)
            start = birth + timedelta(days=rng.randint(0, max(1, (today - birth).days)))
            alds.append(PatientAld(patient_id=patient.id, label=label, code=code, start_date=start))
    return patients, alds
