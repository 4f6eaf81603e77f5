"""Key slots: the database key wrapped once per user password and once for the recovery code.

As LUKS does: the random 256-bit database key is never typed nor stored in clear. Each
slot holds it encrypted with AES-256-GCM under a key derived from a secret by argon2id;
the slot's identity (centre, kind, login) is bound as associated data so a slot cannot
be moved to another account. The file also keeps the per-login failed-attempt counters,
because they must work before the database can be opened.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from filelock import FileLock

FORMAT = "cms-keyslots-1"
RECOVERY_LOGIN = "__recovery__"
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)

# argon2id cost: ~0.1-0.2 s on the centre's 2-core PCs, inside the 0.5 s unlock budget.
DEFAULT_KDF = {"time_cost": 3, "memory_cost": 65536, "parallelism": 2}


class KeySlotError(Exception):
    """The key-slot file is missing, damaged or does not belong to this database."""


class BadCredentials(Exception):
    """The login or password is wrong (the caller counts it toward lock-out)."""


class AccountLocked(Exception):
    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(until.isoformat())


@dataclass
class Slot:
    login: str
    kind: str  # "user" or "recovery"
    salt: str
    nonce: str
    wrapped: str
    kdf: dict[str, int]
    failed: int = 0
    locked_until: str | None = None
    # A clinician's Ed25519 signing key, wrapped under the same password-derived key (its own
    # nonce and associated data): {"key_id", "nonce", "wrapped"}. A slot made by someone
    # else (a reset, a recovery) has none: the old key cannot follow without the old password.
    signing: dict[str, str] | None = None
    # The account's X25519 private key (#17, the clinical key), wrapped the same way: the
    # clinical keys are sealed to its public half, so whoever holds only the database key
    # (reception, administrator) cannot open them. The recovery slot has one too.
    clinical: dict[str, str] | None = None
    # Whom this account trusts with the clinical key (#17): the public keys it grants to and
    # accepts grants from, and the clinical keys it holds (JSON, ``clinical_grants.Trust``),
    # wrapped the same way. Whoever can write the database cannot add to it: it is the
    # root against forged public keys and grants.
    trust: dict[str, str] | None = None
    # The account's X25519 rekey pair (#17, database-key rotation): {"key_id", "nonce",
    # "wrapped", "public"}; new database keys are sealed to its public half. Every slot,
    # the recovery slot included, gets one (an account at its first login since the upgrade).
    rekey: dict[str, str] | None = None
    # Which generation of the database key ``wrapped`` holds, "number:key id"; None for the
    # centre's original key (``dbkey_rotation``).
    key_generation: str | None = None


@dataclass
class SlotFile:
    centre_id: str
    slots: dict[str, Slot] = field(default_factory=dict)
    pending_events: list[dict[str, str]] = field(default_factory=list)
    # The database key's generations (``dbkey_rotation.Generation.as_json``), oldest first.
    generations: list[dict[str, Any]] = field(default_factory=list)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(secret: str, salt: bytes, kdf: dict[str, int]) -> bytes:
    return hash_secret_raw(
        secret.encode("utf-8"),
        salt,
        time_cost=kdf["time_cost"],
        memory_cost=kdf["memory_cost"],
        parallelism=kdf["parallelism"],
        hash_len=32,
        type=Type.ID,
    )


def _aad(centre_id: str, kind: str, login: str) -> bytes:
    return f"{FORMAT}|{centre_id}|{kind}|{login}".encode()


def make_slot(
    centre_id: str,
    login: str,
    kind: str,
    secret: str,
    db_key: bytes,
    kdf: dict[str, int] | None = None,
    key_generation: str | None = None,
) -> Slot:
    params = dict(kdf or DEFAULT_KDF)
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    wrapped = AESGCM(_derive(secret, salt, params)).encrypt(
        nonce, db_key, _aad(centre_id, kind, login)
    )
    return Slot(
        login=login,
        kind=kind,
        salt=_b64(salt),
        nonce=_b64(nonce),
        wrapped=_b64(wrapped),
        kdf=params,
        key_generation=key_generation,
    )


def unwrap(slots: SlotFile, login: str, secret: str) -> bytes:
    """Return the database key, or raise BadCredentials."""
    return unwrap_all(slots, login, secret).db_key


@dataclass(frozen=True)
class Unwrapped:
    """What a password opens. The keys stay out of ``repr`` (a traceback printing locals)."""

    db_key: bytes = field(repr=False)
    signing_key_id: str | None = None
    signing_key: bytes | None = field(default=None, repr=False)  # Ed25519 private key, raw
    agreement_key_id: str | None = None
    # X25519 private key, raw (opens clinical-key grants)
    agreement_key: bytes | None = field(default=None, repr=False)
    trust: bytes | None = field(default=None, repr=False)  # the slot's trust list (JSON)
    # The password-derived key itself: the session rewraps its trust list with it, without
    # another argon2 run (it opens nothing the keys above do not already give).
    kek: bytes | None = field(default=None, repr=False)
    # The X25519 part was wrapped with a trust list (False: a slot of session 10 or older).
    trust_bound: bool = False
    rekey_key_id: str | None = None
    # X25519 private key, raw (opens the database key's newer generations)
    rekey_key: bytes | None = field(default=None, repr=False)
    key_generation: str | None = None  # the generation ``db_key`` belongs to


def _part_aad(centre_id: str, part: str, login: str, key_id: str) -> bytes:
    return f"{FORMAT}|{centre_id}|{part}|{login}|{key_id}".encode()


def _unwrap_part(
    kek: bytes, centre_id: str, login: str, part: str, body: dict[str, str] | None
) -> tuple[str, bytes] | None:
    if not body:
        return None
    try:
        key_id = body["key_id"]
        private = AESGCM(kek).decrypt(
            _unb64(body["nonce"]),
            _unb64(body["wrapped"]),
            _part_aad(centre_id, part, login, key_id),
        )
    except (InvalidTag, KeyError, ValueError):
        # A damaged or foreign part: the login still works, a new key pair is made.
        return None
    return key_id, private


def _wrap_part(
    kek: bytes, centre_id: str, login: str, part: str, key_id: str, private_key: bytes
) -> dict[str, str]:
    nonce = secrets.token_bytes(12)
    wrapped = AESGCM(kek).encrypt(nonce, private_key, _part_aad(centre_id, part, login, key_id))
    return {"key_id": key_id, "nonce": _b64(nonce), "wrapped": _b64(wrapped)}


def unwrap_all(slots: SlotFile, login: str, secret: str) -> Unwrapped:
    """The database key and, if the slot holds one, the signing key (one argon2 run)."""
    slot = slots.slots.get(login)
    if slot is None:
        # Spend the same time as a real attempt so logins cannot be probed by timing.
        _derive(secret, b"\0" * 16, DEFAULT_KDF)
        raise BadCredentials(login)
    try:
        kek = _derive(secret, _unb64(slot.salt), slot.kdf)
        return unwrap_with_kek(slots.centre_id, slot, kek)
    except InvalidTag:
        raise BadCredentials(login) from None


def unwrap_with_kek(centre_id: str, slot: Slot, kek: bytes) -> Unwrapped:
    """What ``unwrap_all`` gives, from the key it derived for this slot (same salt): a
    session changing its own password carries its keys over without the old password.
    InvalidTag when ``kek`` is not this slot's."""
    db_key = AESGCM(kek).decrypt(
        _unb64(slot.nonce), _unb64(slot.wrapped), _aad(centre_id, slot.kind, slot.login)
    )
    signing = _unwrap_part(kek, centre_id, slot.login, "signing", slot.signing)
    agreement, bound = _unwrap_clinical(kek, centre_id, slot)
    trust = _unwrap_part(kek, centre_id, slot.login, "trust", slot.trust)
    rekey = _unwrap_part(kek, centre_id, slot.login, "rekey", slot.rekey)
    return Unwrapped(
        db_key,
        signing[0] if signing else None,
        signing[1] if signing else None,
        agreement[0] if agreement else None,
        agreement[1] if agreement else None,
        trust[1] if trust else None,
        kek,
        bound,
        rekey[0] if rekey else None,
        rekey[1] if rekey else None,
        slot.key_generation,
    )


# The X25519 part is wrapped under this name since the trust list exists (session 11). Its
# associated data says so: a slot whose trust list was removed from the file still shows
# that it had one (its account is not taken for one just upgraded, which trusts on first
# use); changing the name back breaks the part.
CLINICAL_BOUND = "clinical+trust"


def _unwrap_clinical(
    kek: bytes, centre_id: str, slot: Slot
) -> tuple[tuple[str, bytes] | None, bool]:
    bound = _unwrap_part(kek, centre_id, slot.login, CLINICAL_BOUND, slot.clinical)
    if bound is not None:
        return bound, True
    return _unwrap_part(kek, centre_id, slot.login, "clinical", slot.clinical), False


def with_keys(
    centre_id: str,
    slot: Slot,
    secret: str,
    *,
    signing: tuple[str, bytes] | None = None,
    clinical: tuple[str, bytes] | None = None,
    trust: bytes | None = None,
    kek: bytes | None = None,
    rekey: tuple[str, bytes, str] | None = None,
    database: tuple[bytes, str | None] | None = None,
) -> Slot:
    """A copy of ``slot`` also holding the given private keys, (key id, raw key): the
    Ed25519 ``signing`` key and the X25519 ``clinical`` one, and the ``trust`` list,
    wrapped under the same secret with one key derivation (argon2id is the slow part;
    ``kek``, the one ``unwrap_all`` derived from this slot, spares it); ``rekey`` is (key
    id, raw private key, base64 public key), the public half kept beside the wrapped private
    one; ``database`` (key, its generation) replaces the database key the slot wraps."""
    if kek is None:
        kek = _derive(secret, _unb64(slot.salt), slot.kdf)
    if clinical is None and slot.clinical is not None and trust is not None:
        clinical = _unwrap_clinical(kek, centre_id, slot)[0]  # rewrapped as bound below
    if clinical is not None and trust is None and slot.trust is None:
        trust = b""  # an empty list, from the start: this account never trusts on first use
    if database is not None:
        nonce = secrets.token_bytes(12)
        wrapped = AESGCM(kek).encrypt(nonce, database[0], _aad(centre_id, slot.kind, slot.login))
        slot = replace(slot, nonce=_b64(nonce), wrapped=_b64(wrapped), key_generation=database[1])
    rekey_part = slot.rekey
    if rekey is not None:
        rekey_part = {
            **_wrap_part(kek, centre_id, slot.login, "rekey", rekey[0], rekey[1]),
            "public": rekey[2],
        }
    return replace(
        slot,
        kdf=dict(slot.kdf),
        signing=(
            _wrap_part(kek, centre_id, slot.login, "signing", *signing)
            if signing is not None
            else slot.signing
        ),
        clinical=(
            _wrap_part(kek, centre_id, slot.login, CLINICAL_BOUND, *clinical)
            if clinical is not None
            else slot.clinical
        ),
        trust=(
            _wrap_part(kek, centre_id, slot.login, "trust", "trust", trust)
            if trust is not None
            else slot.trust
        ),
        rekey=rekey_part,
    )


def check_not_locked(slots: SlotFile, login: str, now: datetime) -> None:
    slot = slots.slots.get(login)
    if slot and slot.locked_until:
        until = datetime.fromisoformat(slot.locked_until)
        if until > now:
            raise AccountLocked(until)


def record_failure(slots: SlotFile, login: str, now: datetime) -> bool:
    """Count a failed attempt; return True when this attempt locks the account."""
    slot = slots.slots.get(login)
    if slot is None:
        return False
    slot.failed += 1
    if slot.failed >= MAX_FAILED_ATTEMPTS:
        slot.failed = 0
        slot.locked_until = (now + LOCKOUT).astimezone(UTC).isoformat()
        return True
    return False


def record_success(slots: SlotFile, login: str) -> None:
    slot = slots.slots.get(login)
    if slot:
        slot.failed = 0
        slot.locked_until = None


def check_slot_encoding(slot: Slot) -> None:
    """ValueError unless salt, nonce and wrapped key (and signing part) are valid base64."""
    _unb64(slot.salt), _unb64(slot.nonce), _unb64(slot.wrapped)
    for part in (slot.signing, slot.clinical, slot.trust, slot.rekey):
        if part is not None:
            if not isinstance(part, dict):
                raise ValueError("part")
            str(part["key_id"]), _unb64(part["nonce"])
            _unb64(part["wrapped"])
    if slot.rekey is not None and len(_unb64(slot.rekey["public"])) != 32:
        raise ValueError("rekey")
    if slot.key_generation is not None:
        generation_ref(slot.key_generation)


def generation_ref(text: str | None) -> tuple[int, str]:
    """A slot's ``key_generation`` as (number, key id); (0, "") for the original key."""
    if text is None:
        return (0, "")
    number, _, key_id = text.partition(":")
    if not key_id:
        raise ValueError("generation")
    return (int(number), key_id)


def generation_text(ref: tuple[int, str]) -> str | None:
    return None if ref == (0, "") else f"{ref[0]}:{ref[1]}"


def load(path: Path) -> SlotFile:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeySlotError("missing") from None
    except OSError as exc:
        raise KeySlotError(f"unreadable: {exc.strerror}") from None
    try:
        data: dict[str, Any] = json.loads(raw)
        if data.get("format") != FORMAT:
            raise KeySlotError("unknown format")
        slots = {login: Slot(**s) for login, s in data["slots"].items()}
        for slot in slots.values():
            check_slot_encoding(slot)
        return SlotFile(
            centre_id=str(data["centre_id"]),
            slots=slots,
            pending_events=list(data.get("pending_events", [])),
            generations=[dict(g) for g in data.get("generations", [])],
        )
    except KeySlotError:
        raise
    except (ValueError, KeyError, TypeError):
        raise KeySlotError("damaged") from None


_THREADS = threading.RLock()
T = TypeVar("T")


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the slot file for a read-modify-write, against other threads (the sync thread
    refreshing replicated slots, the login screen counting failures) and other processes
    on the same data directory (``sync serve``). Raises TimeoutError after 10 s."""
    with _THREADS, FileLock(str(path.with_name(path.name + ".lock")), timeout=10):
        yield


def update(path: Path, change: Callable[[SlotFile], T]) -> T:
    """Load the current file, apply ``change``, save it, all under ``exclusive``.

    Every change after set-up goes through here so that no writer overwrites another's
    change with a stale copy (a failed-login counter, a password set on another station).
    """
    with exclusive(path):
        slots = load(path)
        before = _as_json(slots)
        result = change(slots)
        if _as_json(slots) != before:  # written only when something changed
            save(path, slots)
        return result


def _as_json(slots: SlotFile) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "centre_id": slots.centre_id,
        "slots": {login: _slot_json(s) for login, s in slots.slots.items()},
        "pending_events": [dict(event) for event in slots.pending_events],
        **({"generations": [dict(g) for g in slots.generations]} if slots.generations else {}),
    }


def _slot_json(slot: Slot) -> dict[str, Any]:
    data = asdict(slot)
    for part in ("signing", "clinical", "trust", "rekey", "key_generation"):
        if data[part] is None:
            del data[part]  # a file without these parts stays readable by older versions
    return data


def save(path: Path, slots: SlotFile) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    data = _as_json(slots)
    fd, tmp = tempfile.mkstemp(prefix=".keyslots-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def new_recovery_code() -> str:
    """A 100-bit code in groups of four, from an alphabet without look-alike characters."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[i : i + 4] for i in range(0, 20, 4))


def normalize_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
