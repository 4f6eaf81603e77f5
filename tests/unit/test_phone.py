"""Phone number validation and formatting (synthetic numbers)."""

from __future__ import annotations

import pytest

from cms_desktop.domain.phone import Phone, PhoneError, format_phone_for_display, parse_phone


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "+33 6 12 34 56 78",
        "0033 6 12 34 56 78",
        " +33612345678 ",
    ],
)
def test_french_mobile_in_every_usual_form(text: str) -> None:
    phone = parse_phone(text)
    assert phone.e164 == "+33612345678"
    assert phone.display == "06 12 34 56 78"
    assert str(phone) == "06 12 34 56 78"


def test_landline() -> None:
    assert parse_phone("01-99-00-12-34") == Phone("+33199001234")


def test_foreign_number_is_kept_international() -> None:
    phone = parse_phone("+44 20 7946 0958")
    assert phone.e164 == "+442079460958"
    assert phone.display == "+44 20 7946 0958"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "vide"),
        ("   ", "vide"),
        ("06 12", "invalide"),
        ("06 12 34 56 78 90", "invalide"),
        ("bonjour", "n'est pas un numéro"),
    ],
)
def test_invalid_numbers_are_refused_in_french(text: str, fragment: str) -> None:
    with pytest.raises(PhoneError, match=fragment):
        parse_phone(text)


def test_display_requires_e164() -> None:
    assert format_phone_for_display("+33912345678") == "09 12 34 56 78"
    with pytest.raises(PhoneError):
        format_phone_for_display("0612345678")
