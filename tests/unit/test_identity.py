"""Identity status (RNIV), documents, birth dates, traits and duplicate detection."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cms_desktop.domain.identity import (
    DOCUMENT_LABELS,
    DUPLICATE_REASON_LABELS,
    SEX_LABELS,
    STATUS_LABELS,
    DuplicateReason,
    IdentityDocument,
    IdentityError,
    IdentityStatus,
    IdentityTraits,
    Sex,
    duplicate_reason,
    identity_problems,
    is_likely_duplicate,
    may_share_ins,
    parse_french_date,
    status_after_document_check,
    status_after_ins_recovery,
    validate_birth_date,
    validate_identity_traits,
)
from cms_desktop.domain.nir import parse_nir

TODAY = date(2025, 3, 10)
S = IdentityStatus
D = IdentityDocument


@pytest.mark.parametrize(
    ("current", "document", "expected"),
    [
        (S.PROVISIONAL, D.PASSPORT, S.VALIDATED),
        (S.PROVISIONAL, D.NATIONAL_ID_CARD, S.VALIDATED),
        (S.PROVISIONAL, D.RESIDENCE_PERMIT, S.VALIDATED),
        (S.RECOVERED, D.PASSPORT, S.QUALIFIED),
        (S.PROVISIONAL, D.VITALE_CARD, S.PROVISIONAL),
        (S.RECOVERED, D.VITALE_CARD, S.RECOVERED),
        (S.PROVISIONAL, D.DRIVING_LICENCE, S.PROVISIONAL),
        (S.PROVISIONAL, D.NONE, S.PROVISIONAL),
        (S.PROVISIONAL, D.FAMILY_BOOK, S.PROVISIONAL),
        (S.VALIDATED, D.PASSPORT, S.VALIDATED),
        (S.QUALIFIED, D.NONE, S.QUALIFIED),
    ],
)
def test_status_after_document_check(
    current: IdentityStatus, document: IdentityDocument, expected: IdentityStatus
) -> None:
    assert status_after_document_check(current, document) is expected


def test_family_book_validates_a_minor_only() -> None:
    assert status_after_document_check(S.PROVISIONAL, D.FAMILY_BOOK, is_minor=True) is S.VALIDATED
    assert (
        status_after_document_check(S.PROVISIONAL, D.BIRTH_CERTIFICATE, is_minor=True)
        is S.VALIDATED
    )
    assert status_after_document_check(S.PROVISIONAL, D.VITALE_CARD, is_minor=True) is S.PROVISIONAL


def test_ins_recovery_and_sharing() -> None:
    assert status_after_ins_recovery(S.PROVISIONAL) is S.RECOVERED
    assert status_after_ins_recovery(S.VALIDATED) is S.QUALIFIED
    assert status_after_ins_recovery(S.QUALIFIED) is S.QUALIFIED
    assert [s for s in S if may_share_ins(s)] == [S.QUALIFIED]


def test_every_enum_member_has_a_french_label() -> None:
    assert set(STATUS_LABELS) == set(S)
    assert set(DOCUMENT_LABELS) == set(D)
    assert set(SEX_LABELS) == set(Sex)
    assert set(DUPLICATE_REASON_LABELS) == set(DuplicateReason)
    assert Sex("M") is Sex.MALE  # stored codes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/03/1980", date(1980, 3, 5)),
        ("5/3/1980", date(1980, 3, 5)),
        (" 29/02/2024 ", date(2024, 2, 29)),
    ],
)
def test_parse_french_date(text: str, expected: date) -> None:
    assert parse_french_date(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("31/02/2020", "n'existe pas"),
        ("29/02/2023", "n'existe pas"),
        ("00/01/2020", "n'existe pas"),
        ("1980-03-05", "jj/mm/aaaa"),
        ("05/03/80", "jj/mm/aaaa"),
        ("", "jj/mm/aaaa"),
    ],
)
def test_parse_french_date_rejects(text: str, fragment: str) -> None:
    with pytest.raises(IdentityError, match=fragment):
        parse_french_date(text)


def test_birth_date_bounds() -> None:
    assert validate_birth_date(TODAY, TODAY) == TODAY
    assert validate_birth_date(date(1900, 1, 1), TODAY) == date(1900, 1, 1)
    with pytest.raises(IdentityError, match="futur"):
        validate_birth_date(date(2025, 3, 11), TODAY)
    with pytest.raises(IdentityError, match="1900"):
        validate_birth_date(date(1899, 12, 31), TODAY)


def _traits(**changes: object) -> IdentityTraits:
    base = IdentityTraits(
        birth_name="Lefèvre",
        first_given_name="Hélène",
        given_names=("Hélène", "Marie"),
        birth_date=date(1985, 5, 17),
        sex=Sex.FEMALE,
        birth_place_code="75056",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_valid_traits_have_no_problem() -> None:
    assert identity_problems(_traits(), TODAY) == []
    validate_identity_traits(_traits(birth_place_code="2A004", used_name="Dupont-Martin"), TODAY)


def test_all_problems_are_reported_together() -> None:
    traits = _traits(
        birth_name=" ",
        first_given_name="Marie",
        birth_date=date(2030, 1, 1),
        birth_place_code="7505",
        used_name="Dupont2",
    )
    with pytest.raises(IdentityError) as error:
        validate_identity_traits(traits, TODAY)
    problems = error.value.problems
    assert len(problems) == 5
    assert "Le nom de naissance est obligatoire." in problems
    assert any("premier de la liste" in p for p in problems)
    assert any("futur" in p for p in problems)
    assert any("code INSEE" in p for p in problems)
    assert any("nom utilisé" in p for p in problems)
    assert str(error.value) == "\n".join(problems)


def test_given_name_with_digits_is_refused() -> None:
    problems = identity_problems(_traits(given_names=("Hélène", "M4rie")), TODAY)
    assert problems == [
        "Le prénom de naissance « M4rie » ne doit contenir que des lettres, espaces, tirets et apostrophes."
    ]


# --- duplicates -----------------------------------------------------------------------


def test_same_nir_is_a_duplicate_whatever_the_names() -> None:
    nir = parse_nir("285057800608441")
    a = _traits(nir=nir)
    b = _traits(
        birth_name="Autre",
        first_given_name="Nom",
        given_names=(),
        nir=nir,
        birth_date=date(1990, 1, 1),
    )
    assert duplicate_reason(a, b) is DuplicateReason.SAME_NIR


def test_phonetic_names_with_same_birth_date() -> None:
    a = _traits()
    b = _traits(birth_name="LEFEBVRE", first_given_name="Helene", given_names=())
    assert duplicate_reason(a, b) is DuplicateReason.SAME_BIRTH_DATE_AND_NAMES


def test_used_name_matches_birth_name_either_way() -> None:
    married = _traits(birth_name="Martin", used_name="Lefèvre")
    assert is_likely_duplicate(_traits(), married)
    assert is_likely_duplicate(married, _traits())


def test_used_given_name_counts() -> None:
    assert is_likely_duplicate(
        _traits(first_given_name="Marie", given_names=(), used_given_name="Hélène"), _traits()
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_date": date(1985, 5, 18)},
        {"birth_name": "Bernard"},
        {"first_given_name": "Sophie", "given_names": ()},
    ],
)
def test_not_a_duplicate_when_a_trait_differs(changes: dict[str, object]) -> None:
    assert not is_likely_duplicate(_traits(**changes), _traits())


def test_different_nirs_fall_back_to_traits() -> None:
    a = _traits(nir=parse_nir("285057800608441"))
    b = _traits(birth_name="Bernard", nir=parse_nir("185057800608491"))
    assert not is_likely_duplicate(a, b)
    assert is_likely_duplicate(a, replace(b, birth_name="Lefebvre"))
