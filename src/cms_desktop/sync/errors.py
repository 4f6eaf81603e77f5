"""Sync exceptions: each ``str()`` is a French message fit for the user, naming no patient data."""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every sync failure; the message is French and safe to show."""


class Unreachable(SyncError):
    """No answer from the remote station (switched off, network down, not running)."""


class PeerRejected(SyncError):
    """The remote station is not (or no longer) a member of the centre."""

    def __init__(self, message: str, station_id: str = "") -> None:
        super().__init__(message)
        self.station_id = station_id  # who was refused, when its certificate says so


class ProtocolError(SyncError):
    """The remote station sent something this protocol does not allow."""


class RemoteError(SyncError):
    """The remote station reported an error and ended the session."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class ContentRejected(SyncError):
    """Document content received from a peer was refused (bad chunk or hash mismatch)."""

    def __init__(self, sha: str, reason: str) -> None:
        self.sha = sha
        self.reason = reason  # for the log: no patient data, only what went wrong
        super().__init__("Contenu de document reçu endommagé : il sera redemandé à un autre poste.")
