"""Prescription rules (R.5132-3, R.5132-29 CSP) and French numbers in letters."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_desktop.domain.prescription import (
    LineKind,
    NonSubstitution,
    Prescription,
    PrescriptionError,
    PrescriptionLine,
    Zone,
    age_in_years,
    number_in_words,
    validate_prescription,
    weight_required,
)

TODAY = date(2026, 11, 23)


def medicine(**changes: object) -> PrescriptionLine:
    fields: dict[str, object] = {
        "dci": "paracétamol",
        "strength": "500 mg",
        "form": "comprimé",
        "dosage": "1 comprimé 3 fois par jour",
        "route": "orale",
        "duration": "5 jours",
    }
    fields.update(changes)
    return PrescriptionLine(**fields)  # type: ignore[arg-type]


def check(*lines: PrescriptionLine, bizone: bool = False, ald: bool = False, born=None) -> None:
    validate_prescription(Prescription(lines, TODAY, bizone), ald, born)


def refused(*lines: PrescriptionLine, **kwargs: object) -> str:
    with pytest.raises(PrescriptionError) as info:
        check(*lines, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_valid_prescription_passes() -> None:
    check(medicine(), PrescriptionLine(kind=LineKind.FREE_TEXT, text="Radiographie du thorax"))


def test_empty_prescription_refused() -> None:
    assert refused() == "L'ordonnance ne contient aucune ligne"


def test_missing_dosage_names_the_line() -> None:
    assert refused(medicine(), medicine(dosage="  ")) == "Ligne 2 : posologie manquante"


def test_dci_is_mandatory_even_with_a_brand() -> None:
    assert "DCI" in refused(medicine(dci="", brand="Doliprane"))


def test_duration_or_quantity_required() -> None:
    message = refused(medicine(duration=None))
    assert message.startswith("Ligne 1 : ") and "durée" in message
    check(medicine(duration=None, quantity=2, quantity_unit="boîtes"))


def test_negative_renewals_refused() -> None:
    assert "renouvellements" in refused(medicine(renewals=-1))


def test_free_text_line_needs_text() -> None:
    assert refused(PrescriptionLine(kind=LineKind.FREE_TEXT, text=" ")).startswith("Ligne 1 : ")


def test_bizone_needs_ald() -> None:
    assert (
        refused(medicine(zone=Zone.ALD), bizone=True, ald=False)
        == "Ordonnance bizone impossible : le patient n'a pas d'affection de longue durée"
    )
    check(medicine(zone=Zone.ALD), medicine(), bizone=True, ald=True)


def test_ald_line_outside_bizone_refused() -> None:
    assert "bizone" in refused(medicine(zone=Zone.ALD), ald=True)


def test_non_substitutable_needs_justification() -> None:
    assert (
        refused(medicine(non_substitutable=""))
        == "Ligne 1 : « non substituable » exige une justification (MTE, EFG ou CIF)"
    )
    assert "justification" in refused(medicine(non_substitutable="XYZ"))


@pytest.mark.parametrize("code", ["MTE", "mte", " cif ", NonSubstitution.CIF])
def test_non_substitution_codes_are_normalised(code: str) -> None:
    line = medicine(non_substitutable=code)
    assert isinstance(line.non_substitution, NonSubstitution)
    assert line.non_substitution.value == code.strip().upper()
    check(line)


def test_efg_only_for_child_under_six() -> None:
    efg = medicine(non_substitutable="EFG")
    check(efg, born=date(2021, 11, 24))  # 5 years old, 6 tomorrow
    assert "moins de 6 ans" in refused(efg, born=date(2020, 11, 23))  # 6 today
    assert "date de naissance" in refused(efg)


def test_narcotic_quantities_must_be_in_letters() -> None:
    narcotic = medicine(
        dci="morphine", strength="dix mg", dosage="une gélule matin et soir", is_narcotic=True
    )
    check(narcotic)
    assert "posologie" in refused(medicine(dci="morphine", dosage="1 gélule", is_narcotic=True))
    assert "dosage" in refused(
        medicine(dci="morphine", strength="10 mg", dosage="une gélule", is_narcotic=True)
    )


def test_birth_after_prescription_refused() -> None:
    assert "naissance" in refused(medicine(), born=date(2027, 1, 1))


def test_age_and_weight_requirement() -> None:
    born = date(2008, 11, 24)
    assert age_in_years(born, TODAY) == 17
    assert weight_required(born, TODAY)
    assert not weight_required(date(2008, 11, 23), TODAY)
    assert age_in_years(date(2004, 2, 29), date(2026, 2, 28)) == 21
    assert age_in_years(date(2004, 2, 29), date(2026, 3, 1)) == 22


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "un"),
        (17, "dix-sept"),
        (21, "vingt et un"),
        (28, "vingt-huit"),
        (71, "soixante et onze"),
        (80, "quatre-vingts"),
        (81, "quatre-vingt-un"),
        (91, "quatre-vingt-onze"),
        (100, "cent"),
        (180, "cent quatre-vingts"),
        (200, "deux cents"),
        (201, "deux cent un"),
        (999, "neuf cent quatre-vingt-dix-neuf"),
        (1000, "mille"),
        (80_000, "quatre-vingt mille"),
        (200_000, "deux cent mille"),
    ],
)
def test_number_in_words_spelling(n: int, words: str) -> None:
    assert number_in_words(n) == words


_VALUES = {
    word: value
    for value, word in enumerate(
        [
            "zéro",
            "un",
            "deux",
            "trois",
            "quatre",
            "cinq",
            "six",
            "sept",
            "huit",
            "neuf",
            "dix",
            "onze",
            "douze",
            "treize",
            "quatorze",
            "quinze",
            "seize",
        ]
    )
} | {"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}


def _parse(words: str) -> int:
    """Independent reader of French numbers, to check the writer round-trips."""
    total, group, previous = 0, 0, ""
    for token in words.replace("-", " ").split():
        if token == "et":
            continue
        if token in ("cent", "cents"):
            group = (group or 1) * 100
        elif token == "mille":
            total, group = total + (group or 1) * 1000, 0
        elif token.startswith("vingt") and previous == "quatre":
            group += 80 - 4
        else:
            group += _VALUES[token]
        previous = token
    return total + group


@given(st.integers(min_value=0, max_value=999_999))
def test_number_in_words_round_trips(n: int) -> None:
    words = number_in_words(n)
    assert _parse(words) == n
    assert all(ch.isalpha() or ch in " -" for ch in words)


@pytest.mark.parametrize("n", [-1, 1_000_000])
def test_number_in_words_bounds(n: int) -> None:
    with pytest.raises(ValueError):
        number_in_words(n)
