"""Password rules for staff accounts (CNIL recommendation for accounts with lock-out)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MIN_LENGTH = 10
# zxcvbn's score: 3 means about 10^8 guesses or more, out of reach of online guessing with
# the lock-out and costly for an offline attack on the argon2id key slot.
MIN_SCORE = 3
# zxcvbn's lists are English: the French passwords found in every leak, added as if typed by
# the user (zxcvbn then finds them inside a password, with case and l33t changes).
FRENCH_COMMON = (
    "motdepasse",
    "azerty",
    "azertyuiop",
    "soleil",
    "bonjour",
    "doudou",
    "chouchou",
    "loulou",
    "coucou",
    "jetaime",
    "marseille",
    "paris",
    "france",
    "nicolas",
    "camille",
    "julien",
    "bienvenue",
    "secret",
    "sante",
    "santé",
    "centre",
    "mairie",
    "medecin",
    "médecin",
    "docteur",
    "infirmier",
    "infirmiere",
    "accueil",
    "patient",
    "cabinet",
    "cms",
)
# zxcvbn's time grows with the length; beyond this, the rest adds nothing to the estimate.
_ESTIMATED_CHARS = 64
GUESSABLE = (
    "Ce mot de passe est trop facile à deviner (mot courant, suite du clavier, répétition, "
    "date, nom ou identifiant). Choisissez par exemple trois ou quatre mots sans rapport "
    "entre eux, séparés par des tirets, avec un chiffre : « Velo-Prune-Orage-7 »."
)


class WeakPassword(ValueError):
    pass


def _plain(text: str) -> str:
    """Without accents: « Léa » is typed « Lea » in a password as often as not."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _words(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        lowered = _plain(text.strip().lower())
        if lowered:
            found.append(lowered)
            found.extend(w for w in re.split(r"[^\w]+", lowered) if len(w) >= 3)
    return found


def check_password_strength(password: str, login: str = "", names: Iterable[str] = ()) -> None:
    """Raise WeakPassword (French message) unless the password is long, varied enough and
    hard to guess.

    CNIL (deliberation 2022-100): with a lock-out after a few failures, at least 8
    characters mixing 3 of 4 kinds; the centre asks for 10 to leave a margin. On top,
    zxcvbn's estimate refuses common passwords, keyboard runs, repetitions and dates, and
    anything built on the login or on ``names`` (the account holder's, the centre's).
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
    from zxcvbn import zxcvbn  # its word lists take a while to load: not at start-up

    personal = _words([login, *names])
    hints = personal + list(FRENCH_COMMON)
    if zxcvbn(password[:_ESTIMATED_CHARS], user_inputs=hints)["score"] < MIN_SCORE:
        raise WeakPassword(GUESSABLE)
    # zxcvbn scores "Durand-Hugo1" well even knowing both names (two words, a digit): what
    # is left once the names are taken out must be hard to guess on its own.
    plain = _plain(password)
    rest = plain
    for word in sorted({w for w in personal if len(w) >= 3}, key=len, reverse=True):
        rest = re.sub(re.escape(word), "", rest, flags=re.IGNORECASE)
    if rest != plain and zxcvbn(rest[:_ESTIMATED_CHARS], user_inputs=hints)["score"] < 2:
        raise WeakPassword(GUESSABLE)
