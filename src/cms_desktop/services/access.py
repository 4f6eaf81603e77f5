"""Which permission each public service function needs, declared on the function itself.

Every public function of ``cms_desktop.services`` that takes an ``actor`` or a ``ws`` carries
exactly one of these decorators, right above its ``def`` (grep ``@requires``)::

    @requires(Permission.CLINICAL_READ)              # the role needs this permission
    @requires(Permission.PRINT_ADMIN, Permission.AGENDA_READ)  # ... all of these
    @requires_any(Permission.AGENDA_READ, Permission.AGENDA_OWN)  # ... one of these
    @any_role("what every role may do here")           # any logged-in account
    @no_actor("why no one is checked")                 # takes no actor (start-up, counters)
    @internal("who checks before calling")             # runs inside another service's check

The decorators only record the declaration in ``DECLARED`` and return the function
unchanged: the function body still checks (``actor.require``). The permission matrix test
(tests/integration/test_permission_matrix.py) calls every declared function with a real
account of every role and asserts that exactly the roles the declaration and
``domain.permissions`` allow get through; it fails on a public function with no declaration.
Where the permission depends on the data (a document's kind, a conflict's table), the
declaration names the stricter case, which the test exercises, and says so in ``note``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from cms_desktop.domain.permissions import Permission, Role, has_permission

F = TypeVar("F", bound=Callable[..., object])


class Rule(StrEnum):
    ALL = "all"  # every listed permission
    ANY = "any"  # one of the listed permissions
    ANY_ROLE = "any_role"
    NO_ACTOR = "no_actor"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Access:
    rule: Rule
    permissions: frozenset[Permission] = frozenset()
    note: str = ""

    def allows(self, role: Role) -> bool:
        """Whether ``role`` may call the function, as ``domain.permissions`` says."""
        if self.rule is Rule.ALL:
            return all(has_permission(role, p) for p in self.permissions)
        if self.rule is Rule.ANY:
            return any(has_permission(role, p) for p in self.permissions)
        return True


# "module.function" → its declaration.
DECLARED: dict[str, Access] = {}


def _declare(access: Access) -> Callable[[F], F]:
    def mark(function: F) -> F:
        DECLARED[f"{function.__module__}.{function.__qualname__}"] = access
        return function

    return mark


def requires(*permissions: Permission, note: str = "") -> Callable[[F], F]:
    return _declare(Access(Rule.ALL, frozenset(permissions), note))


def requires_any(*permissions: Permission, note: str = "") -> Callable[[F], F]:
    return _declare(Access(Rule.ANY, frozenset(permissions), note))


def any_role(note: str) -> Callable[[F], F]:
    return _declare(Access(Rule.ANY_ROLE, note=note))


def no_actor(note: str) -> Callable[[F], F]:
    return _declare(Access(Rule.NO_ACTOR, note=note))


def internal(note: str) -> Callable[[F], F]:
    return _declare(Access(Rule.INTERNAL, note=note))
