"""Password rules for staff accounts (CNIL recommendation for accounts with lock-out)."""

from __future__ import annotations

MIN_LENGTH = 10


class WeakPassword(ValueError):
    pass


def check_password_strength(password: str, login: str = "") -> None:
    """Raise WeakPassword (French message) unless the password is long and varied enough.

    CNIL (deliberation 2022-100): with a lock-out after a few failures, at least 8
    characters mixing 3 of 4 kinds; the centre asks for 10 to leave a margin.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.")
    kinds = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if kinds < 3:
        raise WeakPassword(
            "Le mot de passe doit mélanger au moins trois types de caractères parmi : "
            "minuscules, majuscules, chiffres et caractères spéciaux."
        )
    if login and login.lower() in password.lower():
        raise WeakPassword("Le mot de passe ne doit pas contenir l'identifiant.")
