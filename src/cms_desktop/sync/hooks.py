"""Checks run after every merged batch, in the same transaction (overlaps, search index…).

Other features register here (the integrator wires them at start-up); a hook gets the
session and the names of the tables that received changes, and may write derived rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

PostMergeHook = Callable[[Session, frozenset[str]], None]

_hooks: list[PostMergeHook] = []
_lock = threading.Lock()


def register_post_merge(hook: PostMergeHook) -> None:
    with _lock:
        if hook not in _hooks:
            _hooks.append(hook)


def unregister_post_merge(hook: PostMergeHook) -> None:
    with _lock:
        if hook in _hooks:
            _hooks.remove(hook)


def run_post_merge(session: Session, touched: frozenset[str]) -> None:
    with _lock:
        hooks = list(_hooks)
    for hook in hooks:
        hook(session, touched)
