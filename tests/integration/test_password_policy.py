"""Issue #18: the services refuse guessable passwords, knowing the account's and the
centre's names; nothing is created or changed."""

from __future__ import annotations

import pytest

from cms_desktop.domain.permissions import Role
from cms_desktop.services import users
from cms_desktop.services.errors import ValidationFailed
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, Centre


@pytest.mark.parametrize(
    "password", ["Password12", "Azerty1234", "Motdepasse1", "aaaaaaaaA1", "Testscms#2026"]
)
def test_a_guessable_password_is_refused_for_a_new_account_and_a_reset(
    centre: Centre, password: str
) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        before = [u.login for u in users.list_users(ws, admin)]
        with pytest.raises(ValidationFailed, match="trop facile à deviner"):
            users.create_user(
                ws, admin, users.NewUser("l.petit", "Léa Petit", Role.NURSE, password)
            )
        assert [u.login for u in users.list_users(ws, admin)] == before
        target = next(u for u in users.list_users(ws, admin) if u.login == "accueil")
        with pytest.raises(ValidationFailed, match="trop facile à deviner"):
            users.reset_password(ws, admin, target.id, password)
    finally:
        ws.close()
    centre.login("accueil", STAFF_PASSWORD)[0].close()  # the old password still works


def test_a_password_made_of_the_holders_name_is_refused(centre: Centre) -> None:
    ws, admin = centre.login("admin", ADMIN_PASSWORD)
    try:
        with pytest.raises(ValidationFailed, match="trop facile à deviner"):
            users.create_user(
                ws, admin, users.NewUser("l.petit", "Léa Petit", Role.NURSE, "Petit-Lea-1987")
            )
        users.create_user(
            ws, admin, users.NewUser("l.petit", "Léa Petit", Role.NURSE, "Velo-Prune-Orage-7")
        )
    finally:
        ws.close()
