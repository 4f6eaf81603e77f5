"""Joining the centre over the network: pairing exchange, then a copy of the centre.

After the pairing exchange (``sync.pairing``) has proved that both ends know the one-time
code and bound it to the sponsor's TLS certificate, the channel is authenticated; only then
does the sponsor send the database key, the key-slot file and the centre's authority key,
then a snapshot of the data. Every user can then log in on the new station with the same
password; the new station has its own station id and certificate.

Frame: ``u8 kind | u32 length | body``; kinds: message (JSON), data (snapshot lines), end,
error (JSON with a French message).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from cms_desktop.domain.record_access import station_code
from cms_desktop.storage import keyslots, migrations
from cms_desktop.storage.datadir import DataDir
from cms_desktop.storage.engine import create_encrypted_engine
from cms_desktop.storage.models import LocalState, SyncStation, new_id
from cms_desktop.storage.store import Store
from cms_desktop.sync.errors import ProtocolError
from cms_desktop.sync.identity import (
    ca_keys,
    listen_port,
    register_station,
    require_credentials,
    save_identity,
    set_static_peers,
)
from cms_desktop.sync.pairing import (
    PairingCode,
    PairingError,
    PairingJoiner,
    PairingSponsor,
    ca_issuer,
)
from cms_desktop.sync.pki import load_certificate, pairing_client_context, pairing_server_context
from cms_desktop.sync.snapshot import export_snapshot, import_snapshot

log = logging.getLogger(__name__)

_HEAD = struct.Struct(">BI")
_MESSAGE, _DATA, _END, _ERROR = 1, 2, 3, 4
_MAX = 16 * 1024 * 1024
_CHUNK = 1 << 20
TIMEOUT_S = 60.0
# Until a joiner has proved it knows the code, it gets this long per step (TLS handshake,
# JOIN, proof): an idle or slow connection is dropped quickly instead of holding the code.
IDLE_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 8  # handled at once; more are closed at once
JOIN_ATTEMPTS = 3  # fresh station ids tried when the centre already has a station's code


class StationCodeTaken(PairingError):
    """The joiner's station id gives the short code of a station of the centre (the code
    that prefixes record-access references): the joiner draws another id and asks again."""

    reason = "station_code_taken"


def _send(sock: socket.socket, kind: int, body: bytes) -> None:
    sock.sendall(_HEAD.pack(kind, len(body)) + body)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise PairingError("Connexion interrompue pendant l'appairage : recommencez.")
        data += chunk
    return bytes(data)


def _recv(sock: socket.socket) -> tuple[int, bytes]:
    kind, size = _HEAD.unpack(_recv_exact(sock, _HEAD.size))
    if size > _MAX:
        raise ProtocolError("Message d'appairage trop volumineux.")
    body = _recv_exact(sock, size)
    if kind == _ERROR:
        try:
            error = json.loads(body)
            message = str(error["message"])
        except (ValueError, KeyError, TypeError):
            raise PairingError("Appairage refusé par le poste du centre.") from None
        if isinstance(error, dict) and error.get("reason") == StationCodeTaken.reason:
            raise StationCodeTaken(message)
        raise PairingError(message)
    return kind, body


def _expect_message(sock: socket.socket) -> bytes:
    kind, body = _recv(sock)
    if kind != _MESSAGE:
        raise ProtocolError("Message d'appairage inattendu.")
    return body


# --- sponsor ---------------------------------------------------------------------------

# Names of the stations being paired right now by this process (two codes may be shown at
# once, on the Synchronisation page and by « sync serve --pair »): reserved from the JOIN
# until the pairing ends, so that two joiners cannot both take one name.
_RESERVING = threading.Lock()
_RESERVED: set[str] = set()


def _name_taken(store: Store) -> set[str]:
    """The names (folded) of the centre's active stations."""
    with store.read() as session:
        rows = session.execute(
            select(SyncStation.name, SyncStation.revoked, SyncStation.deleted)
        ).all()
    return {
        " ".join(n.split()).casefold()
        for n, revoked, deleted in rows
        if not revoked and not deleted
    }


class PairingServer:
    """Shows one code and lets one station join with it (then the code is spent)."""

    def __init__(
        self,
        store: Store,
        data_dir: DataDir,
        db_key: bytes,
        code: PairingCode | None = None,
        host: str = "0.0.0.0",
        port: int = 0,
        on_joined: Callable[[str], None] | None = None,
        sync_port: int | None = None,
    ) -> None:
        self.store = store
        self.sync_port = sync_port  # where the joiner will reach us for sync
        self.data_dir = data_dir
        self.db_key = db_key
        self.code = code or PairingCode()
        self.on_joined = on_joined
        self.credentials = require_credentials(store)
        keys = ca_keys(store)
        if keys is None:
            raise PairingError("Ce poste ne peut pas appairer : clé de l'autorité absente.")
        self._ca_key = keys[1]
        self._issue = ca_issuer(*keys)
        self._context = pairing_server_context(self.credentials)
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.5)
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        # One join at a time past the JOIN message: the code is for one station.
        self._joining = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="sync-pairing", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> PairingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _loop(self) -> None:
        # Each connection on its own thread: one that connects and says nothing must not
        # keep a legitimate joiner waiting (it used to hold the only thread for a minute).
        # Until stopped, not only while the code is usable: a station that tries a spent
        # code is told so (« déjà utilisé ») instead of seeing its connection cut.
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                conn.close()  # flooded: the legitimate joiner retries
                continue
            threading.Thread(
                target=self._handle, args=(conn,), name="sync-pairing-conn", daemon=True
            ).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            with contextlib.closing(conn):
                conn.settimeout(IDLE_TIMEOUT_S)
                try:
                    with self._context.wrap_socket(conn, server_side=True) as tls:
                        self._serve(tls)
                except (PairingError, ProtocolError, OSError, ssl.SSLError) as exc:
                    log.warning("sync: pairing attempt failed: %s", type(exc).__name__)
        finally:
            self._slots.release()

    def _check_join(self, join: bytes) -> str:
        """Two active stations with one name could not be told apart on any screen; two
        stations with one short code (removed ones included: their references stay) would
        hand out the same record-access references. The name is reserved until this
        pairing ends (two codes shown at once must not let two joiners take it); returns
        the reserved key, to release."""
        try:
            joined = json.loads(join)
            name = " ".join(str(joined["station_name"]).split())
            code = station_code(str(joined["station_id"]))
        except (ValueError, KeyError, TypeError):
            return ""  # the pairing check itself refuses a malformed JOIN
        key = name.casefold()
        with _RESERVING:
            if key in _name_taken(self.store) or key in _RESERVED:
                raise PairingError(
                    f"Un poste du centre s'appelle déjà « {name} » : donnez un autre nom à ce "
                    "poste."
                )
            with self.store.read() as session:
                ids = session.scalars(select(SyncStation.id)).all()
            if code in {station_code(station_id) for station_id in ids}:
                raise StationCodeTaken("Identifiant de poste déjà pris : nouvel essai.")
            _RESERVED.add(key)
        return key

    def _serve(self, tls: ssl.SSLSocket) -> None:
        join = _expect_message(tls)
        with self._joining:
            self._join(tls, join)

    def _join(self, tls: ssl.SSLSocket, join: bytes) -> None:
        reserved = ""
        try:
            sponsor = PairingSponsor(self.code, self.credentials, self._issue)
            try:
                self.code.ensure_usable()  # another joiner may have used it while this one waited
                # Before the code is tried: a refusal does not spend it.
                reserved = self._check_join(join)
                _send(tls, _MESSAGE, sponsor.challenge(join))
                grant = sponsor.grant(_expect_message(tls))
                joined = json.loads(join)
                joiner_id, joiner_name = str(joined["station_id"]), str(joined["station_name"])
                with self.store.write() as session:  # BEGIN IMMEDIATE: one writer at a time
                    # Another process of this station may have paired that name meanwhile.
                    if " ".join(joiner_name.split()).casefold() in _name_taken(self.store):
                        raise PairingError(
                            f"Un poste du centre s'appelle déjà « {joiner_name} » : donnez un "
                            "autre nom à ce poste."
                        )
                    register_station(
                        session, joiner_id, joiner_name, json.loads(grant)["cert"].encode()
                    )
            except PairingError as exc:
                error = {"message": str(exc)}
                if isinstance(exc, StationCodeTaken):
                    error["reason"] = exc.reason
                _send(tls, _ERROR, json.dumps(error).encode())
                raise
            tls.settimeout(TIMEOUT_S)  # a proven joiner: the copy of the centre may take a while
            _send(tls, _MESSAGE, grant)
            self._send_centre(tls, joiner_id)
        finally:
            if reserved:
                with _RESERVING:
                    _RESERVED.discard(reserved)

    def _send_centre(self, tls: ssl.SSLSocket, joiner_id: str) -> None:
        secrets = {
            "db_key": base64.b64encode(self.db_key).decode(),
            "keyslots": self.data_dir.key_slots.read_text(encoding="utf-8"),
            "ca_key": self._ca_key.decode(),
            "sponsor_port": self.sync_port or listen_port(self.store),
        }
        _send(tls, _MESSAGE, json.dumps(secrets).encode())
        buffer = bytearray()
        for line in export_snapshot(self.store):
            buffer += line
            if len(buffer) >= _CHUNK:
                _send(tls, _DATA, bytes(buffer))
                buffer.clear()
        if buffer:
            _send(tls, _DATA, bytes(buffer))
        _send(tls, _END, b"")
        _expect_message(tls)  # the joiner confirms it has stored everything
        log.info("sync: station %s joined the centre", joiner_id)
        if self.on_joined is not None:
            self.on_joined(joiner_id)


# --- joiner ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinResult:
    station_id: str
    centre_id: str
    entries: int


def join_centre(
    data_dir: DataDir, host: str, port: int, code: str, station_name: str
) -> JoinResult:
    """Pair this (empty) data directory with the centre and copy the centre's data into it."""
    if data_dir.initialised:
        raise PairingError(
            f"Un centre est déjà installé dans {data_dir.path} : utilisez un dossier vide."
        )
    data_dir.ensure_writable()
    attempts = JOIN_ATTEMPTS
    while True:
        try:
            return _join_as(data_dir, host, port, code, station_name, new_id())
        except StationCodeTaken:
            attempts -= 1
            if not attempts:
                raise PairingError(
                    "Le poste du centre a refusé l'identifiant de ce poste : recommencez."
                ) from None


def _join_as(
    data_dir: DataDir, host: str, port: int, code: str, station_name: str, station_id: str
) -> JoinResult:
    joiner = PairingJoiner(code, station_id, station_name)
    try:
        raw = socket.create_connection((host, port), timeout=TIMEOUT_S)
    except OSError as exc:
        raise PairingError(
            "Poste du centre injoignable : vérifiez l'adresse, le port et le réseau."
        ) from exc
    try:
        with pairing_client_context().wrap_socket(raw) as tls:
            sponsor_der = tls.getpeercert(binary_form=True) or b""
            _send(tls, _MESSAGE, joiner.join())
            _send(tls, _MESSAGE, joiner.prove(_expect_message(tls), sponsor_der))
            credentials = joiner.complete(_expect_message(tls))
            secrets = json.loads(_expect_message(tls))
            result = _install(
                data_dir, station_id, station_name, credentials, secrets, _lines(tls), host
            )
            _send(tls, _MESSAGE, b'{"type":"done"}')
            return result
    except (OSError, ssl.SSLError) as exc:
        _discard(data_dir)
        raise PairingError("Connexion interrompue pendant l'appairage : recommencez.") from exc
    except BaseException:
        _discard(data_dir)
        raise
    finally:
        raw.close()


def _lines(tls: ssl.SSLSocket) -> Iterator[bytes]:
    pending = b""
    while True:
        kind, body = _recv(tls)
        if kind == _END:
            break
        if kind != _DATA:
            raise ProtocolError("Message d'appairage inattendu.")
        pending += body
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line)
    if pending:
        yield pending


def _install(
    data_dir: DataDir,
    station_id: str,
    station_name: str,
    credentials: Any,
    secrets: dict[str, Any],
    lines: Iterator[bytes],
    sponsor_host: str,
) -> JoinResult:
    key = base64.b64decode(secrets["db_key"])
    slots = _read_slots(data_dir, str(secrets["keyslots"]))
    # Create the database with this station's own id before the store opens it.
    engine = create_encrypted_engine(data_dir.database, key)
    try:
        migrations.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(insert(LocalState).values(key="station_id", value=station_id))
    finally:
        engine.dispose()
    store = Store.open(data_dir, key, slots.centre_id)
    try:
        entries = import_snapshot(store, lines)
        with store.write() as session:
            save_identity(
                session,
                station_id,
                station_name,
                credentials.cert_pem,
                credentials.key_pem,
                credentials.ca_cert_pem,
                str(secrets["ca_key"]).encode(),
            )
        set_static_peers(store, _peer(sponsor_host, int(secrets["sponsor_port"])))
        load_certificate(credentials.cert_pem)
    finally:
        store.close()
    keyslots.save(data_dir.key_slots, slots)
    return JoinResult(station_id, slots.centre_id, entries)


def _peer(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _read_slots(data_dir: DataDir, text: str) -> keyslots.SlotFile:
    fd, tmp = tempfile.mkstemp(prefix=".keyslots-in-", dir=data_dir.path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        slots = keyslots.load(Path(tmp))
    except keyslots.KeySlotError as exc:
        raise PairingError("Fichier des clés reçu illisible : recommencez l'appairage.") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    # Failed-attempt counters and pending events belong to the sponsor's station.
    slots.pending_events = []
    for slot in slots.slots.values():
        slot.failed, slot.locked_until = 0, None
    return slots


def _discard(data_dir: DataDir) -> None:
    """Leave the directory empty again so that pairing can simply be retried."""
    for path in (data_dir.database, data_dir.key_slots):
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            with contextlib.suppress(OSError):
                candidate.unlink()
