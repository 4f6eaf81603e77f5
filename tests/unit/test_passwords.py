"""Issue #18: staff passwords follow the CNIL length rules and are refused when guessable."""

from __future__ import annotations

import pytest

from cms_desktop.domain.passwords import GUESSABLE, WeakPassword, check_password_strength


@pytest.mark.parametrize(
    "password",
    [
        "Password12",  # the most common password, with two digits
        "Azerty1234",  # the French keyboard's first row
        "Motdepasse1",  # "password" in French
        "aaaaaaaaA1",  # a repetition
        "Soleil2024!",  # a common French word and a year
        "Qwerty-1234",  # a keyboard run
    ],
)
def test_common_and_guessable_passwords_are_refused_with_a_french_hint(password: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_password_strength(password, "dr.martin")
    assert str(refused.value) == GUESSABLE
    assert "Velo-Prune-Orage-7" in GUESSABLE
    check_password_strength("Velo-Prune-Orage-7", "dr.martin")  # the hint's own example passes


def test_a_password_built_on_the_account_or_centre_names_is_refused() -> None:
    for password in ("Valbourg-2026", "Durand-Hugo1", "Hugodurand#1"):
        check_password_strength(password, "accueil")  # strong enough without the names…
        with pytest.raises(WeakPassword, match="trop facile à deviner"):
            check_password_strength(
                password, "h.durand", ["Hugo Durand", "CMS de Valbourg", "Valbourg"]
            )


def test_the_cnil_length_and_variety_rules_still_apply() -> None:
    with pytest.raises(WeakPassword, match="au moins 10 caractères"):
        check_password_strength("Xq7#vB2!p", "")
    with pytest.raises(WeakPassword, match="trois types de caractères"):
        check_password_strength("zqxjvkwpbfmh", "")
    with pytest.raises(WeakPassword, match="identifiant"):
        check_password_strength("Zq-dr.martin-7", "dr.martin")
    check_password_strength("Zq7#vB2!pL", "")
