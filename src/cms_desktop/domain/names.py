"""Name normalisation, French phonetic key (Phonex) and search tokens for patient look-up."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["matches_query", "normalize_name", "phonetic_key", "search_tokens"]

# Ligatures and letters that NFKD does not decompose into a base letter.
_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


# Cached: the search-index triggers fold the same names over and over (given names and
# family names repeat across a town, and each patient row is folded for several keys).
@lru_cache(maxsize=8192)
def normalize_name(text: str) -> str:
    """Uppercase, accents and ligatures folded, every other sign turned into one space.

    "Lefèvre-d'Œillet  " -> "LEFEVRE D OEILLET". Hyphens and apostrophes become spaces so
    that "Jean-Pierre" and "Jean Pierre" compare equal.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", without_marks.upper()).strip()


# Phonex rules, in the published order. Each is (pattern, replacement) applied everywhere.
_V = "AEIOUY1234"  # vowels and the vowel sounds already coded 1-4
_PHONEX_RULES: tuple[tuple[str, str], ...] = (
    (r"Y", "I"),  # 1
    (r"(?<![CSP])H", ""),  # 2: silent h
    (r"PH", "F"),  # 3
    (r"G(AI?[NM])", r"K\1"),  # 4: gan, gam, gain, gaim
    (r"[AE]I[NM](?=[AEIOU])", "YN"),  # 5: ain/ein/aim/eim before a vowel
    (r"EAU", "O"),  # 6: three-letter sounds
    (r"OUA", "2"),
    (r"[AE]I[NM]", "4"),
    (r"[AE]I", "Y"),  # 7: the "é" sound
    (r"E(?=[RTZ])", "Y"),
    (r"ESS", "YS"),
    (rf"(?:AN|AM|EN|EM|ON)(?![{_V}])", "1"),  # 8: "an"/"on" sounds, unless a vowel follows
    (rf"IN(?![{_V}])", "4"),  # "in" sound
    (rf"(?<=[{_V}])S(?=[{_V}])", "Z"),  # 9: s between vowels sounds z
    (r"OE|EU", "E"),  # 10
    (r"AU", "O"),
    (r"OI|OY", "2"),
    (r"OU", "3"),
    (r"SCH|CH|SH", "5"),  # 11
    (r"SS", "S"),
    (r"SC(?=[EI])", "S"),
    (r"C(?=[EI])", "S"),  # 12
    (r"QU|GU", "K"),  # 13 (qu/gu before q/c so that the pair is read as one sound)
    (r"C|Q", "K"),
    (r"G(?=[AOY])", "K"),
)
_COMPILED_RULES = tuple((re.compile(p), r) for p, r in _PHONEX_RULES)
_SINGLE_LETTERS = str.maketrans("ADPJBVM", "OTTGFFN")  # 14
_REPEATS = re.compile(r"(.)\1+")
_FINAL_T_X = re.compile(r"[TX]$")


def phonetic_key(text: str) -> str:
    """French phonetic key of a name, after the *Phonex* algorithm.

    Phonex was published by Frédéric Brouard (1999, "Soundex, Phonex et autres",
    sqlpro.developpez.com) as an improvement of the French Soundex2 for French names.
    Steps 1-16 are applied to the normalised name with spaces removed; the final step of
    the original (encoding the letters as a base-22 float) is left out because the string
    it encodes is itself an exact, comparable key. Accents are folded first, so the rule
    é/è/ê -> y never fires and a missing accent never changes the key.

    "Dupont"/"Dupond", "Lefebvre"/"Lefèvre" and "Philippe"/"Filipe" share a key.
    """
    word = normalize_name(text).replace(" ", "")
    word = re.sub(r"[0-9]", "", word)
    for pattern, replacement in _COMPILED_RULES:
        word = pattern.sub(replacement, word)
    word = word.translate(_SINGLE_LETTERS)
    word = _REPEATS.sub(r"\1", word)  # 15
    return _FINAL_T_X.sub("", word)  # 16


def search_tokens(*names: str | None) -> frozenset[str]:
    """Normalised words of a patient's names (birth name, used name, given names).

    Stored next to the patient so that search-as-you-type matches any word by prefix:
    "jean pi" finds "Jean-Pierre".
    """
    tokens: set[str] = set()
    for name in names:
        if name:
            tokens.update(normalize_name(name).split())
    return frozenset(tokens)


def matches_query(query: str, tokens: Iterable[str]) -> bool:
    """True when every word of the query is the prefix of one of the tokens."""
    words = normalize_name(query).split()
    token_list = list(tokens)
    return bool(words) and all(any(t.startswith(w) for t in token_list) for w in words)
