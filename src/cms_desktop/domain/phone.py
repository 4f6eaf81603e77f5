"""Phone numbers: validation with ``phonenumbers`` (France by default), E.164 storage, display."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

__all__ = ["Phone", "PhoneError", "format_phone_for_display", "parse_phone"]

DEFAULT_REGION = "FR"


class PhoneError(ValueError):
    """A phone number that cannot be accepted; ``str()`` is a French message for the user."""


@dataclass(frozen=True)
class Phone:
    """A valid phone number, stored in E.164 form ("+33612345678")."""

    e164: str

    @property
    def display(self) -> str:
        return format_phone_for_display(self.e164)

    def __str__(self) -> str:
        return self.display


def parse_phone(text: str, region: str = DEFAULT_REGION) -> Phone:
    """Parse "06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78" or "0033 6…".

    Numbers without an international prefix are read as French ones.
    """
    cleaned = text.strip()
    if not cleaned:
        raise PhoneError("Le numéro de téléphone est vide.")
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"« {cleaned} » n'est pas un numéro de téléphone.") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(
            f"Le numéro de téléphone « {cleaned} » est invalide "
            "(attendu par exemple 06 12 34 56 78 ou +33 6 12 34 56 78)."
        )
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def format_phone_for_display(e164: str) -> str:
    """French numbers in national form ("06 12 34 56 78"), others in international form."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        raise PhoneError(
            f"« {e164} » n'est pas un numéro de téléphone au format international."
        ) from None
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
