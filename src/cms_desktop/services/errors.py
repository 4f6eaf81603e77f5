"""Errors a service raises; ``str(error)`` is a French sentence fit to show to the user."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every expected failure: bad input, refused action, unavailable store."""


class LoginFailed(ServiceError):
    pass


class StoreUnavailable(ServiceError):
    """The data directory, key slots or database cannot be used as they are."""


class ValidationFailed(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class DatabaseDamaged(StoreUnavailable):
    """The database file has damaged pages; ``str()`` says which and how to restore."""
