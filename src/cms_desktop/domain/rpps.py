"""RPPS numbers (Répertoire partagé des professionnels de santé): 11 digits, the last one a
Luhn check digit over the first ten, as printed on prescriptions."""

from __future__ import annotations


def luhn_ok(digits: str) -> bool:
    """True when the Luhn sum of `digits` (check digit last) is a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def rpps_problem(rpps: str) -> str | None:
    """A French message saying what is wrong with the number, or None when it is valid."""
    if not (len(rpps) == 11 and rpps.isascii() and rpps.isdigit()):
        return "Le numéro RPPS compte 11 chiffres."
    if not luhn_ok(rpps):
        return "Numéro RPPS incorrect : la clé (dernier chiffre) ne correspond pas."
    return None


def with_check_digit(first_ten: str) -> str:
    """The 11-digit RPPS made of these ten digits and their Luhn check digit."""
    for digit in "0123456789":
        if luhn_ok(first_ten + digit):
            return first_ten + digit
    raise AssertionError("unreachable: one digit always completes a Luhn sum")
