"""Who is acting: passed to every service, which checks permissions and audits with it."""

from __future__ import annotations

from dataclasses import dataclass

from cms_desktop.domain.permissions import Permission, Role, has_permission, require_permission


@dataclass(frozen=True)
class Actor:
    user_id: str
    login: str
    full_name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)

    def require(self, permission: Permission) -> None:
        require_permission(self.role, permission)
