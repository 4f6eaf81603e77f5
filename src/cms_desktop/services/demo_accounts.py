"""The demo centre's accounts: what the console and the login window show.

Kept apart from ``services.demo`` (Faker, the store, the services) so that showing the
demo logins at start-up imports none of those.
"""

from __future__ import annotations

from dataclasses import dataclass

from cms_desktop.domain.permissions import ROLE_LABELS, Role

DEMO_PASSWORD = "Demo-Cms-2026"


@dataclass(frozen=True)
class DemoAccount:
    login: str
    full_name: str
    role: Role
    profession: str = ""
    specialty: str = ""
    rpps: str = ""
    title: str = ""


DEMO_ACCOUNTS = (
    DemoAccount("admin", "Administrateur Démo", Role.ADMINISTRATOR),
    DemoAccount("accueil", "Sophie Lambert", Role.RECEPTION),
    DemoAccount(
        "dr.moreau",
        "Claire Moreau",
        Role.DOCTOR,
        "Médecin",
        "Médecine générale",
        "10000000017",
        "Dr",
    ),
    DemoAccount(
        "dr.benali",
        "Karim Benali",
        Role.DOCTOR,
        "Médecin",
        "Médecine générale",
        "10000000025",
        "Dr",
    ),
    DemoAccount(
        "dr.lefort",
        "Anne Lefort",
        Role.DOCTOR,
        "Médecin",
        "Gynécologie médicale",
        "10000000033",
        "Dr",
    ),
    DemoAccount("inf.roux", "Julien Roux", Role.NURSE, "Infirmier"),
    DemoAccount(
        "dentiste", "Marie Caron", Role.DENTIST, "Chirurgien-dentiste", "", "10000000041", "Dr"
    ),
    DemoAccount("kine", "Paul Girard", Role.OTHER_CLINICIAN, "Masseur-kinésithérapeute"),
    DemoAccount(
        "direction",
        "Hélène Dubois",
        Role.MEDICAL_DIRECTOR,
        "Médecin",
        "Médecine générale",
        "10000000058",
        "Dr",
    ),
)


def demo_logins() -> list[tuple[str, str, str]]:
    """(login, password, role label) for the console and the login window."""
    return [(a.login, DEMO_PASSWORD, ROLE_LABELS[a.role]) for a in DEMO_ACCOUNTS]
