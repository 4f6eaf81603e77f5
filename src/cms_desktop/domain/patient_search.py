"""Search-as-you-type keys of a patient and the reading of what the user types.

A patient is indexed under short prefixed keys ("n:" name word, "f:" ddmmyyyy, "d:"
yyyymmdd, "s:" NIR, "t:" phone); a query becomes terms, each a set of key prefixes, and a
patient matches when every term has one of its prefixes among the patient's keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cms_desktop.domain.names import normalize_name

__all__ = [
    "KEY_END",
    "SearchTerm",
    "national_phone_digits",
    "parse_query",
    "patient_keys",
    "sort_key",
]

# Keys hold only [A-Z0-9:+]; "~" sorts after all of them, so [p, p + KEY_END) is "starts with p".
KEY_END = "~"
MIN_NUMBER_DIGITS = 4  # shorter digit strings would match too many NIRs and phones

_SEPARATORS = re.compile(r"[\s.\-_/\u00a0\u202f]+")
_NUMERIC_WORD = re.compile(r"[+\d][\d./\-]*")
_NIR_CORSICA = re.compile(r"[1-478]\d{4}2[AB]\d*")


@dataclass(frozen=True)
class SearchTerm:
    """One thing the user typed; matches when any of its prefixes starts a patient key."""

    prefixes: tuple[str, ...]
    weight: int  # typed length: the longest term is the most selective, it drives the scan


def national_phone_digits(e164: str) -> str:
    """ "+33612345678" -> "0612345678"; other countries keep "+" and their digits."""
    digits = re.sub(r"[^\d+]", "", e164)
    if digits.startswith("+33"):
        return "0" + digits[3:]
    return digits


def sort_key(birth_name: str, used_name: str, first_given_name: str) -> str:
    """Order of results sharing a key: the name shown first, then the first given name."""
    return f"{normalize_name(used_name or birth_name)} {normalize_name(first_given_name)}"


def patient_keys(
    names: Iterable[str | None],
    birth_date: date | str | None,
    nir: str | None,
    phones: Iterable[str | None],
) -> list[str]:
    """Every search key of a patient, without repeats, in a stable order."""
    keys: list[str] = []
    for name in names:
        keys.extend(f"n:{word}" for word in normalize_name(name or "").split())
    if birth_date:
        iso = birth_date.isoformat() if isinstance(birth_date, date) else str(birth_date)[:10]
        year, month, day = iso.split("-")
        keys.append(f"f:{day}{month}{year}")
        keys.append(f"d:{year}{month}{day}")
    if nir:
        keys.append(f"s:{nir.upper()}")
    for phone in phones:
        if phone:
            keys.append(f"t:{national_phone_digits(phone)}")
    return list(dict.fromkeys(keys))


def _date_prefixes(text: str) -> list[str]:
    parts = text.split("/")
    day = parts[0]
    if not day.isdigit() or len(day) > 2 or any(p and not p.isdigit() for p in parts[1:]):
        return []
    day = day.zfill(2)
    if len(parts) == 2:
        second = parts[1]
        if len(second) > 2:  # mm/yyyy
            return [f"d:{second}{day}"] if len(second) == 4 else []
        if len(second) == 1:  # "05/3": March, or the start of 30-31 (no month)
            return [f"f:{day}0{second}", f"f:{day}{second}"]
        return [f"f:{day}{second}"]
    month = parts[1]
    if not month or len(month) > 2 or len(parts) > 3:
        return [f"f:{day}"] if not month and len(parts) == 3 else []
    return [f"f:{day}{month.zfill(2)}{parts[2]}"]


def _number_prefixes(raw: str, today: date) -> list[str]:
    text = raw.strip()
    if "/" in text:
        return _date_prefixes(re.sub(r"\s+", "", text))
    compact = _SEPARATORS.sub("", text)
    prefixes: list[str] = []
    if compact.startswith(("+", "00")):
        international = "+" + compact.lstrip("+")[2:] if compact.startswith("00") else compact
        national = national_phone_digits(international)
        if len(national.strip("+")) >= MIN_NUMBER_DIGITS - 1:
            prefixes.append(f"t:{national}")
        return prefixes
    if not compact.isdigit():
        return []
    if len(compact) == 4 and 1900 <= int(compact) <= today.year:
        prefixes.append(f"d:{compact}")
    if 4 <= len(compact) <= 8 and 1 <= int(compact[:2]) <= 31:
        prefixes.append(f"f:{compact}")
    if len(compact) >= MIN_NUMBER_DIGITS:
        if compact[0] in "123478":
            prefixes.append(f"s:{compact}")
        prefixes.append(f"t:{compact}" if compact.startswith("0") else f"t:0{compact}")
    return list(dict.fromkeys(prefixes))


def parse_query(query: str, today: date) -> list[SearchTerm]:
    """The terms of a typed query: name words, and runs of digits (date, NIR or phone).

    Consecutive numeric words form one term, so "06 12 34" is one phone prefix; a term
    that cannot match anything (e.g. "31/02/" is fine, "ab/cd" is not a date) is dropped.
    """
    stripped = "".join(ch for ch in query if ch.isprintable())
    compact = _SEPARATORS.sub("", stripped).upper()
    if _NIR_CORSICA.fullmatch(compact):
        return [SearchTerm((f"s:{compact}",), len(compact))]
    terms: list[SearchTerm] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            joined = " ".join(run)
            if "/" in joined:
                joined = joined.replace(" ", "")
            prefixes = _number_prefixes(joined, today)
            if prefixes:
                terms.append(SearchTerm(tuple(prefixes), len(_SEPARATORS.sub("", joined))))
            run.clear()

    for word in stripped.split():
        if _NUMERIC_WORD.fullmatch(word):
            run.append(word)
            continue
        flush()
        for name_word in normalize_name(word).split():
            if name_word.isdigit():
                continue
            terms.append(SearchTerm((f"n:{name_word}",), len(name_word)))
    flush()
    return terms
