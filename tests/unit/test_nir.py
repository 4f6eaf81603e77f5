"""NIR parsing, key computation and consistency with the declared identity."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.identity import Sex
from cms_desktop.domain.nir import (
    Nir,
    NirError,
    check_nir_against_identity,
    compute_nir_key,
    parse_nir,
)

# Synthetic numbers only. Keys computed by hand: 97 - (N mod 97).
MAN_1985_05 = "185057800608491"  # 1850578006084 mod 97 = 6 -> key 91


def _with_key(first13: str) -> str:
    digits = first13.replace("2A", "19").replace("2B", "18")
    return f"{first13}{97 - int(digits) % 97:02d}"


def test_known_key_is_computed_from_the_thirteen_digits() -> None:
    assert compute_nir_key("1850578006084") == 91
    assert compute_nir_key("1 85 05 78 006 084") == 91


def test_parse_accepts_separators_and_exposes_parts() -> None:
    nir = parse_nir("1.85.05-78 006 084 91")
    assert nir.compact == MAN_1985_05
    assert nir.formatted == "1 85 05 78 006 084 91"
    assert nir.sex is Sex.MALE
    assert not nir.is_temporary
    assert nir.birth_year_2 == 85
    assert nir.birth_month == 5
    assert nir.department == "78"
    assert nir.commune == "006"
    assert nir.order == "084"
    assert nir.key == 91


def test_corsica_letters_are_replaced_for_the_key() -> None:
    # 2A counts as 19, 2B as 18: keys differ from the same number with digits.
    text_2a = _with_key("292032A004012")
    text_2b = _with_key("292032B004012")
    nir_a = parse_nir(text_2a.lower())
    assert nir_a.department == "2A"
    assert nir_a.sex is Sex.FEMALE
    assert parse_nir(text_2b).department == "2B"
    # 97 - (2 92 03 19 004 012 mod 97) as computed independently:
    assert nir_a.key == 97 - 2920319004012 % 97
    assert parse_nir(text_2b).key == 97 - 2920318004012 % 97


def test_overseas_department_has_three_digits_and_two_digit_commune() -> None:
    nir = parse_nir(_with_key("2750197112345"))
    assert nir.department == "971"
    assert nir.commune == "12"
    assert nir.formatted == f"2 75 01 971 12 345 {nir.key:02d}"


def test_born_abroad_uses_the_country_code() -> None:
    nir = parse_nir(_with_key("1700699352123"))
    assert nir.is_born_abroad
    assert nir.commune == "352"


def test_unknown_month_is_accepted_without_a_month() -> None:
    for month in ("20", "42", "50", "99"):
        assert parse_nir(_with_key(f"180{month}99352123")).birth_month is None


@pytest.mark.parametrize(
    ("digit", "sex"), [("3", Sex.MALE), ("4", Sex.FEMALE), ("7", Sex.MALE), ("8", Sex.FEMALE)]
)
def test_temporary_numbers_keep_the_sex(digit: str, sex: Sex) -> None:
    nir = parse_nir(_with_key(f"{digit}8005993521234"[:13]))
    assert nir.is_temporary
    assert nir.sex is sex


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "vide"),
        ("18505780060849", "15 caractères"),
        ("1850578006084", "clé (2 chiffres) manque"),
        ("1850578006084912", "15 caractères"),
        ("18505780X608491", "« X »"),
        ("185057800608492", "La clé du NIR ne correspond pas au numéro : relisez la carte"),
        (_with_key("5850578006084"), "sexe"),
        (_with_key("1851378006084"), "mois de naissance"),
        (_with_key("1850078006084"), "mois de naissance"),
        (_with_key("1854378006084"), "mois de naissance"),
        (_with_key("1850500006084"), "département de naissance"),
        (_with_key("1850597006084"), "outre-mer"),
    ],
)
def test_invalid_numbers_are_rejected_with_a_french_message(text: str, fragment: str) -> None:
    with pytest.raises(NirError) as error:
        parse_nir(text)
    assert fragment in str(error.value)


def test_nir_cannot_be_built_invalid_directly() -> None:
    with pytest.raises(NirError):
        Nir("185057800608492")


def test_letters_outside_the_corsica_position_are_refused() -> None:
    with pytest.raises(NirError, match="caractère non autorisé"):
        compute_nir_key("1850578A06084")


# --- property tests -------------------------------------------------------------------

departments = st.one_of(
    st.integers(1, 95).map(lambda d: f"{d:02d}"),
    st.sampled_from(["2A", "2B", "99"]),
)


@st.composite
def valid_first13(draw: st.DrawFn) -> str:
    sex = draw(st.sampled_from("123478"))
    year = draw(st.integers(0, 99))
    month = draw(st.one_of(st.integers(1, 12), st.integers(20, 42), st.integers(50, 99)))
    if draw(st.booleans()):
        place = draw(departments) + f"{draw(st.integers(1, 999)):03d}"
    else:
        place = f"97{draw(st.integers(1, 8))}{draw(st.integers(1, 99)):02d}"
    order = draw(st.integers(1, 999))
    return f"{sex}{year:02d}{month:02d}{place}{order:03d}"


@given(valid_first13())
def test_generated_numbers_with_their_key_are_accepted(first13: str) -> None:
    key = compute_nir_key(first13)
    assert 1 <= key <= 97
    nir = parse_nir(f"{first13}{key:02d}")
    assert nir.compact == f"{first13}{key:02d}"
    assert parse_nir(nir.formatted) == nir
    assert nir.formatted.replace(" ", "") == nir.compact


@given(valid_first13(), st.data())
def test_changing_one_digit_is_detected(first13: str, data: st.DataObject) -> None:
    compact = f"{first13}{compute_nir_key(first13):02d}"
    digit_positions = [i for i, c in enumerate(compact) if c.isdigit()]
    position = data.draw(st.sampled_from(digit_positions))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != compact[position]]))
    mutated = compact[:position] + replacement + compact[position + 1 :]
    # Mod-97 keys detect every single-digit substitution; the structure may fail first.
    with pytest.raises(NirError):
        parse_nir(mutated)


# --- consistency with the identity -----------------------------------------------------


def test_consistent_identity_gives_no_warning() -> None:
    nir = parse_nir(MAN_1985_05)
    assert check_nir_against_identity(nir, Sex.MALE, date(1985, 5, 17)) == []


def test_sex_mismatch_is_reported() -> None:
    nir = parse_nir(MAN_1985_05)
    warnings = check_nir_against_identity(nir, Sex.FEMALE, date(1985, 5, 17))
    assert len(warnings) == 1
    assert "sexe" in warnings[0]
    assert "à vérifier" in warnings[0]


def test_undetermined_sex_is_not_contradicted() -> None:
    nir = parse_nir(MAN_1985_05)
    assert check_nir_against_identity(nir, Sex.UNDETERMINED, date(1985, 5, 17)) == []


def test_year_and_month_mismatches_are_reported() -> None:
    nir = parse_nir(MAN_1985_05)
    warnings = check_nir_against_identity(nir, Sex.MALE, date(1986, 6, 1))
    assert len(warnings) == 2
    assert "année" in warnings[0]
    assert "mois" in warnings[1]


def test_unknown_month_never_contradicts() -> None:
    nir = parse_nir(_with_key("1855099352123"))
    assert check_nir_against_identity(nir, Sex.MALE, date(1985, 11, 2)) == []


def test_a_wrong_key_is_refused_without_showing_the_expected_one() -> None:
    """Showing the right key would let a misread card be "corrected" by typing it."""
    for key in range(100):
        text = f"1850578006084{key:02d}"
        if key == 91:
            continue
        with pytest.raises(NirError) as error:
            parse_nir(text)
        message = str(error.value)
        assert "91" not in message and not any(ch.isdigit() for ch in message), message
        assert "relisez" in message


def test_a_multiple_of_97_has_the_key_97_never_00() -> None:
    # 2850375056032 = 97 × 29385309856: 97 - 0 = 97 (the key runs from 01 to 97).
    assert int("2850375056032") % 97 == 0
    assert compute_nir_key("2850375056032") == 97
    assert parse_nir("285037505603297").key == 97
    with pytest.raises(NirError):
        parse_nir("285037505603200")
