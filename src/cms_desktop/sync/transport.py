"""Framed sync protocol over mutual TLS 1.3, run on plain threads with blocking sockets.

Threads fit a Qt app best here: sync never runs on the UI thread, the server has one small
accept thread plus one thread per connection (seven stations at most), and results reach
the UI through the ``on_session`` callback, which the app turns into a Qt signal. An asyncio
loop would need its own thread anyway and buys nothing at this scale.

Frame: ``u32 body length | u8 message type | body``. Session (client C, server S):
``C→S HELLO, S→C HELLO, C→S REQUEST, S→C BATCH*… ACK, S→C REQUEST, C→S BATCH*… ACK,
S→C ACK``, then document content (after the metadata that names it): ``(C→S BLOB_GET,
S→C BLOB)*, C→S ACK``, one chunk per request (several in flight) so that a cut transfer resumes where it stopped. Either side may send ERROR and close. Identity is the TLS certificate; HELLO must
carry the same station id, and the revocation list is checked before any data is read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cms_desktop import __version__
from cms_desktop.domain.oplog import ChainError, OpEntry
from cms_desktop.sync.batch import (
    MAX_BATCH_ENTRIES,
    BatchRejected,
    RejectReason,
    encode_batch,
)
from cms_desktop.sync.blobs import BlobStore
from cms_desktop.sync.errors import (
    ContentRejected,
    PeerRejected,
    ProtocolError,
    RemoteError,
    SyncError,
    Unreachable,
)
from cms_desktop.sync.pipeline import BatchPipeline
from cms_desktop.sync.pki import (
    RevocationList,
    StationCredentials,
    certificate_public_key,
    check_peer_certificate,
    client_context,
    load_certificate,
    server_context,
)
from cms_desktop.sync.replica import ReplicaStore
from cms_desktop.sync.vector import VersionVector, missing_ranges

log = logging.getLogger(__name__)

MAX_FRAME = 32 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 3.0
_FRAME = struct.Struct(">IB")
_CHUNK_HEAD = struct.Struct(">I")  # total chunks of the content; 0 = not held here


class MessageType(IntEnum):
    HELLO = 1
    REQUEST = 2
    BATCH = 3
    ACK = 4
    ERROR = 5
    BLOB_GET = 6
    BLOB = 7


@dataclass(frozen=True)
class SyncReport:
    """Outcome of one session, as seen by this station."""

    peer_id: str
    received: int  # entries newly stored (applied or held)
    sent: int
    schema_notice: str | None = None
    blobs_fetched: int = 0
    blobs_pending: int = 0  # content still missing after this session (resumes next time)
    # Where the peer accepts sessions, for a server: the address it connected from and the
    # port its HELLO announced. Lets a station reach back one that only had it in its fixed
    # list (multicast blocked), so that changes are pushed both ways. None if not announced.
    peer_listen: tuple[str, int] | None = None
    # The peer's wall clock minus ours when its HELLO arrived (None: not announced).
    peer_clock_offset_ms: int | None = None
    # The peer's software version and schema as its HELLO announced them ("": too old).
    peer_version: str = ""
    peer_schema: int = 0


RevocationSource = Callable[[], RevocationList | None]


def _no_revocation() -> RevocationList | None:
    return None


# --- framing ---------------------------------------------------------------------------


def no_delay(sock: socket.socket) -> socket.socket:
    """Send each frame at once (TCP_NODELAY). The protocol is request/response (a chunk
    request, then the chunk; a batch, then the next): with Nagle's algorithm a small request
    waited for the ACK of the previous segment, which the peer delays, and a 20 MB document
    crawled at 16 MB/s on loopback."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_frame(sock: socket.socket, kind: MessageType, body: bytes) -> None:
    if len(body) > MAX_FRAME:
        raise ProtocolError("Message de synchronisation trop volumineux.")
    sock.sendall(_FRAME.pack(len(body), kind) + body)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise ProtocolError("Connexion interrompue par le poste distant.")
        got += count
    return bytes(buffer)


def recv_frame(sock: socket.socket) -> tuple[MessageType, bytes]:
    size, kind = _FRAME.unpack(_recv_exact(sock, _FRAME.size))
    if size > MAX_FRAME:
        raise ProtocolError("Message de synchronisation trop volumineux.")
    try:
        message_type = MessageType(kind)
    except ValueError as exc:
        raise ProtocolError("Message de synchronisation inconnu.") from exc
    return message_type, _recv_exact(sock, size)


def _json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def schema_notice(my_schema: int, peer_id: str, peer_schema: int) -> str | None:
    """French message saying which station must be updated, or None if both match."""
    if peer_schema > my_schema:
        return (
            f"Le poste {peer_id} utilise une version plus récente du logiciel (schéma {peer_schema},"
            f" ce poste : {my_schema}). Mettez à jour ce poste : ses modifications sont gardées"
            " en attente d'ici là."
        )
    if peer_schema < my_schema:
        return (
            f"Le poste {peer_id} utilise une version plus ancienne du logiciel (schéma {peer_schema},"
            f" ce poste : {my_schema}). Mettez à jour le poste {peer_id}."
        )
    return None


# --- one session -----------------------------------------------------------------------


class _Session:
    def __init__(
        self,
        sock: ssl.SSLSocket,
        store: ReplicaStore,
        credentials: StationCredentials,
        signer: Ed25519PrivateKey,
        revocation: RevocationList | None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.sock = sock
        self.blobs = blobs
        self.blobs_fetched = 0
        self.blobs_pending = 0
        self.store = store
        self.credentials = credentials
        self.signer = signer
        self.revocation = revocation
        self.peer_id = ""
        self.peer_key: Ed25519PublicKey | None = None
        self.peer_vector = VersionVector()
        self.peer_schema = 0
        self.peer_listen_port: int | None = None
        self.peer_clock_offset_ms: int | None = None  # peer's wall clock minus ours
        self.peer_version = ""  # what its HELLO announced
        self.listen_port: int | None = None  # announced in our HELLO (clients with a server)
        self.sent = 0
        self.received = 0

    def attest_audit(self) -> None:
        """Sign the audit heads held here (``sync.audit_heads``): optional for a store."""
        attest = getattr(self.store, "attest_audit_heads", None)
        if attest is not None:
            attest(self.signer)

    def identify_peer(self) -> None:
        der = self.sock.getpeercert(binary_form=True)
        self.peer_id = check_peer_certificate(der, self.credentials.ca_cert_pem, self.revocation)
        self.peer_key = certificate_public_key(load_certificate(der or b""))

    def hello(self) -> bytes:
        fields: dict[str, object] = {
            "station": self.store.station_id,
            "schema": self.store.schema_version,
            "vector": dict(self.store.vector()),
            "now_ms": self.store.wall_clock_ms(),  # to tell a PC its clock is off
            "version": __version__,  # shown on the peers' Synchronisation page
        }
        tips = getattr(self.store, "tips", None)
        if tips is not None:  # optional: the hash at each vector seq, to see splits
            fields["tips"] = tips()
        if self.listen_port is not None:
            fields["listen"] = self.listen_port
        return _json(fields)

    def read_hello(self, body: bytes) -> None:
        try:
            hello = json.loads(body)
            station, schema = str(hello["station"]), int(hello["schema"])
            vector = VersionVector(hello["vector"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError("Message d'accueil illisible.") from exc
        if station != self.peer_id:
            raise PeerRejected(
                "Le poste distant annonce une identité différente de son certificat."
            )
        self.peer_schema, self.peer_vector = schema, vector
        # Before asking for anything: a peer holding more of this station's own history
        # than the station itself means it was put back from a copy (``storage.origin``).
        check = getattr(self.store, "check_history", None)
        tips = hello.get("tips")
        if check is not None:
            check(vector, tips if isinstance(tips, dict) else {}, self.peer_id)
        peer_now = hello.get("now_ms")  # optional, as "listen"
        if type(peer_now) is int:
            self.peer_clock_offset_ms = peer_now - self.store.wall_clock_ms()
        version = hello.get("version")  # optional, as "listen"
        if isinstance(version, str) and 0 < len(version) <= 32 and version.isprintable():
            self.peer_version = version
        listen = hello.get("listen")  # optional: older stations do not announce it
        self.peer_listen_port = listen if type(listen) is int and 0 < listen < 65536 else None

    def expect(self, *kinds: MessageType) -> tuple[MessageType, bytes]:
        kind, body = recv_frame(self.sock)
        if kind is MessageType.ERROR:
            try:
                error = json.loads(body)
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "unknown", "Erreur inconnue sur le poste distant."
            raise RemoteError(code, f"Le poste distant a interrompu la synchronisation : {message}")
        if kind not in kinds:
            raise ProtocolError("Message de synchronisation inattendu.")
        return kind, body

    def send_error(self, code: str, message: str) -> None:
        with contextlib.suppress(OSError, SyncError):
            send_frame(self.sock, MessageType.ERROR, _json({"code": code, "message": message}))

    def _diverged(self) -> frozenset[str]:
        """Origins whose history here differs from another station's: neither asked for
        again (the same refusal every few seconds) nor passed on (the split would spread)."""
        diverged = getattr(self.store, "diverged_origins", None)
        return diverged() if diverged is not None else frozenset()

    def request_missing(self) -> None:
        wanted = missing_ranges(self.peer_vector, self.store.vector())
        skip = self._diverged()
        ranges = {
            origin: [first, last] for origin, (first, last) in wanted.items() if origin not in skip
        }
        send_frame(self.sock, MessageType.REQUEST, _json({"ranges": ranges}))

    def receive_batches(self) -> None:
        """Apply BATCH frames until ACK, each verified against the local tip first
        (``sync.pipeline``); the batches before a rejected one stay applied."""
        assert self.peer_key is not None
        pipeline = BatchPipeline(self.store, {self.peer_id: self.peer_key})

        def next_frame() -> bytes | None:
            kind, body = self.expect(MessageType.BATCH, MessageType.ACK)
            return None if kind is MessageType.ACK else body

        try:
            pipeline.run(next_frame)
        except ChainError as exc:  # the store's own check, e.g. a concurrent session
            rejected = BatchRejected(RejectReason.BROKEN_CHAIN, f"poste {pipeline.origin}")
            self.send_error(f"batch_{rejected.reason}", str(rejected))
            raise rejected from exc
        except BatchRejected as exc:
            if exc.reason is RejectReason.DIVERGED:
                note = getattr(self.store, "note_diverged", None)
                if note is not None:
                    note(pipeline.origin, exc.at_seq, self.peer_id)
            self.send_error(f"batch_{exc.reason}", str(exc))
            raise
        finally:
            self.received += pipeline.written

    def serve_request(self, body: bytes) -> None:
        try:
            ranges = {
                str(origin): (int(bounds[0]), int(bounds[1]))
                for origin, bounds in json.loads(body)["ranges"].items()
            }
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ProtocolError("Demande de synchronisation illisible.") from exc
        skip = self._diverged()
        for origin, (first, last) in sorted(ranges.items()):
            if origin in skip:
                continue
            after = max(first - 1, 0)
            while after < last:
                entries = self.store.entries_since(
                    origin, after, min(MAX_BATCH_ENTRIES, last - after)
                )
                if self.peer_schema < REDACTED_ENTRIES_SCHEMA:
                    entries = _before_redacted(entries)
                if not entries:
                    break
                for frame in self._frames(entries):
                    send_frame(self.sock, MessageType.BATCH, frame)
                self.sent += len(entries)
                after = entries[-1].seq
        send_frame(self.sock, MessageType.ACK, b"{}")

    def _frames(self, entries: Sequence[OpEntry]) -> Iterator[bytes]:
        frame = encode_batch(entries, self.signer, self.store.station_id)
        if len(frame) <= MAX_FRAME or len(entries) == 1:
            yield frame
            return
        middle = len(entries) // 2
        yield from self._frames(entries[:middle])
        yield from self._frames(entries[middle:])

    def report(self) -> SyncReport:
        notice = schema_notice(self.store.schema_version, self.peer_id, self.peer_schema)
        listen = None
        if self.peer_listen_port is not None:
            with contextlib.suppress(OSError):
                listen = (str(self.sock.getpeername()[0]), self.peer_listen_port)
        return SyncReport(
            self.peer_id,
            self.received,
            self.sent,
            notice,
            self.blobs_fetched,
            self.blobs_pending,
            listen,
            self.peer_clock_offset_ms,
            self.peer_version,
            self.peer_schema,
        )

    # --- document content -------------------------------------------------------------

    def serve_blobs(self) -> None:
        """Answer BLOB_GET with one chunk each until the client's ACK."""
        totals: dict[str, int | None] = {}  # a complete content never changes
        while True:
            kind, body = self.expect(MessageType.BLOB_GET, MessageType.ACK)
            if kind is MessageType.ACK:
                return
            try:
                request = json.loads(body)
                sha, index = str(request["sha"]), int(request["index"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ProtocolError("Demande de document illisible.") from exc
            if self.blobs is not None and sha not in totals:
                totals[sha] = self.blobs.total_chunks(sha)
            total = totals.get(sha)
            data = self.blobs.read_chunk(sha, index) if total is not None and self.blobs else None
            if total is None or data is None:
                total, data = 0, b""
            send_frame(self.sock, MessageType.BLOB, _CHUNK_HEAD.pack(total) + data)

    def fetch_blobs(self) -> None:
        """Fetch every missing content from the peer, from the first chunk not held yet.

        Chunks are stored a few per transaction, and what was received before a cut is
        stored before the error goes on, so a transfer resumes where it stopped.
        Content the peer lacks or that fails its check stays missing for another peer.
        """
        if self.blobs is None:
            send_frame(self.sock, MessageType.ACK, b"{}")
            return
        missing = self.blobs.missing()
        for sha in missing:
            if self._fetch_one(sha):
                self.blobs_fetched += 1
        self.blobs_pending = len(missing) - self.blobs_fetched
        send_frame(self.sock, MessageType.ACK, b"{}")

    def _fetch_one(self, sha: str) -> bool:
        """Fetch one content from its first missing chunk.

        Up to ``_BLOB_AHEAD`` requests are in flight, so the peer's reads and the network
        overlap our encrypted writes, and received chunks are stored ``_BLOB_PER_WRITE`` per
        transaction. What was received before a cut is stored before the error goes on (the
        transfer resumes after it); responses still in flight when we stop early are read and
        discarded, so the session stays in step.
        """
        assert self.blobs is not None
        index = self.blobs.next_index(sha)
        self._ask_chunk(sha, index)
        asked = index + 1
        received: list[tuple[int, bytes]] = []
        total = 0
        while True:
            try:
                total, data = self._read_chunk()
            except Exception:  # a cut, an ERROR from the peer: keep what arrived, then go on
                if received:
                    with contextlib.suppress(ContentRejected):
                        self.blobs.write_chunks(sha, received, total)
                raise
            if total == 0 or index >= total:
                self._discard(asked - index - 1)
                return False  # the peer does not hold it (complete) either
            while asked < total and asked - index <= _BLOB_AHEAD:
                self._ask_chunk(sha, asked)
                asked += 1
            received.append((index, data))
            index += 1
            if len(received) < _BLOB_PER_WRITE and index < total:
                continue
            try:
                done = self.blobs.write_chunks(sha, received, total)
            except ContentRejected as exc:
                log.warning(
                    "sync: content %s… from station %s refused (%s); will ask another station",
                    sha[:12],
                    self.peer_id,
                    exc.reason,
                )
                self._discard(asked - index)
                return False
            received = []
            if done or index >= total:
                self._discard(asked - index)
                return done

    def _discard(self, responses: int) -> None:
        for _ in range(responses):
            self._read_chunk()

    def _ask_chunk(self, sha: str, index: int) -> None:
        send_frame(self.sock, MessageType.BLOB_GET, _json({"sha": sha, "index": index}))

    def _read_chunk(self) -> tuple[int, bytes]:
        _, body = self.expect(MessageType.BLOB)
        if len(body) < _CHUNK_HEAD.size:
            raise ProtocolError("Morceau de document illisible.")
        (total,) = _CHUNK_HEAD.unpack_from(body)
        return total, body[_CHUNK_HEAD.size :]


_BLOB_AHEAD = 8  # chunk requests in flight (2 MiB)
_BLOB_PER_WRITE = 4  # chunks stored per transaction (1 MiB lost at most on a crash)


def _drain(sock: socket.socket, limit: int = 1 << 20) -> None:
    """Discard what a refused client already sent, so closing does not reset the connection
    before it reads our ERROR (unread data at close makes TCP send RST)."""
    with contextlib.suppress(OSError):
        sock.settimeout(2.0)
        received = 0
        while received < limit:
            chunk = sock.recv(65536)
            if not chunk:
                return
            received += len(chunk)


def _run_server_session(session: _Session) -> SyncReport:
    try:
        session.identify_peer()
    except PeerRejected as exc:
        session.send_error("peer_rejected", str(exc))
        _drain(session.sock)
        raise
    try:
        _, body = session.expect(MessageType.HELLO)
        session.read_hello(body)
    except (PeerRejected, ProtocolError) as exc:
        session.send_error("hello_rejected", str(exc))
        raise
    # Before the HELLO, so the new heads are in this exchange. Heads received now are
    # signed at the start of the next one, when they would be sent anyway: signing them
    # after receiving would leave a change waiting after every exchange.
    session.attest_audit()
    send_frame(session.sock, MessageType.HELLO, session.hello())
    _, body = session.expect(MessageType.REQUEST)
    session.serve_request(body)
    session.request_missing()
    session.receive_batches()
    send_frame(session.sock, MessageType.ACK, b"{}")
    session.serve_blobs()
    return session.report()


def _run_client_session(session: _Session, expected_peer: str | None) -> SyncReport:
    session.identify_peer()  # nothing has been sent yet if this fails
    if expected_peer is not None and session.peer_id != expected_peer:
        raise PeerRejected(f"Le poste joint n'est pas {expected_peer} mais {session.peer_id}.")
    session.attest_audit()
    send_frame(session.sock, MessageType.HELLO, session.hello())
    _, body = session.expect(MessageType.HELLO)
    session.read_hello(body)
    session.request_missing()
    session.receive_batches()
    _, body = session.expect(MessageType.REQUEST)
    session.serve_request(body)
    session.expect(MessageType.ACK)
    session.fetch_blobs()
    return session.report()


def _connection_error(exc: OSError) -> SyncError:
    if isinstance(exc, ssl.SSLError):
        return PeerRejected("Connexion sécurisée refusée : certificat non reconnu par le centre.")
    return Unreachable("Poste injoignable : vérifiez le réseau et que le logiciel y est ouvert.")


# --- public endpoints ------------------------------------------------------------------


class SyncClient:
    """Connects to a peer and runs one session. Call from a background thread."""

    def __init__(
        self,
        store: ReplicaStore,
        credentials: StationCredentials,
        revocation: RevocationSource = _no_revocation,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        blobs: BlobStore | None = None,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.revocation = revocation
        self.timeout_s = timeout_s
        self.blobs = blobs
        self._context = client_context(credentials)
        self._signer = credentials.signing_key()
        # The port this station's own server listens on, told to the peers it contacts.
        self.listen_port: int | None = None
        self._active: set[socket.socket] = set()
        self._active_lock = threading.Lock()

    def sync_with(self, host: str, port: int, expected_peer: str | None = None) -> SyncReport:
        try:
            # A LAN peer answers a connection in milliseconds; a PC switched off never does
            # (or after the system's long SYN retries): give up on it early.
            raw = no_delay(
                socket.create_connection(
                    (host, port), timeout=min(self.timeout_s, CONNECT_TIMEOUT_S)
                )
            )
            raw.settimeout(self.timeout_s)
        except OSError as exc:
            raise _connection_error(exc) from exc
        active: socket.socket = raw
        try:
            # The handshake runs once the socket is registered, so that ``abort_all`` can
            # cut a peer that hangs in it (wrapping detaches ``raw`` from its descriptor).
            with self._context.wrap_socket(raw, do_handshake_on_connect=False) as tls:
                active = tls
                with self._active_lock:
                    self._active.add(tls)
                tls.do_handshake()
                session = _Session(
                    tls,
                    self.store,
                    self.credentials,
                    self._signer,
                    self.revocation(),
                    self.blobs,
                )
                session.listen_port = self.listen_port
                return _run_client_session(session, expected_peer)
        except SyncError:
            raise
        except OSError as exc:
            raise _connection_error(exc) from exc
        finally:
            with self._active_lock:
                self._active.discard(active)
            raw.close()

    def abort_all(self) -> None:
        """Cut every session in progress (the service stops: logout, the app closing).
        Each fails at once as a cut connection would; what was applied stays applied."""
        with self._active_lock:
            active = list(self._active)
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class SyncPeerServer:
    """Accepts peers on a background thread; each session runs on its own thread."""

    def __init__(
        self,
        store: ReplicaStore,
        credentials: StationCredentials,
        host: str = "0.0.0.0",
        port: int = 0,
        revocation: RevocationSource = _no_revocation,
        on_session: Callable[[SyncReport | SyncError], None] | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        blobs: BlobStore | None = None,
    ) -> None:
        self.blobs = blobs
        self.store = store
        self.credentials = credentials
        self.revocation = revocation
        self.on_session = on_session
        self.timeout_s = timeout_s
        self._context = server_context(credentials)
        self._signer = credentials.signing_key()
        self._listener = socket.create_server((host, port))
        self._wake_r, self._wake_w = socket.socketpair()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._accepting = threading.Thread(
            target=self._accept_loop, name="sync-accept", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> SyncPeerServer:
        self._accepting.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._wake_w.send(b"x")
        self._accepting.join(timeout_s)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> SyncPeerServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_r in ready:
                    return
                try:
                    conn, _ = self._listener.accept()
                except OSError:
                    continue
                thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
                with self._lock:
                    self._threads.add(thread)
                thread.start()

    def _handle(self, conn: socket.socket) -> None:
        outcome: SyncReport | SyncError
        try:
            conn.settimeout(self.timeout_s)
            no_delay(conn)
            with self._context.wrap_socket(conn, server_side=True) as tls:
                session = _Session(
                    tls,
                    self.store,
                    self.credentials,
                    self._signer,
                    self.revocation(),
                    self.blobs,
                )
                outcome = _run_server_session(session)
        except SyncError as exc:
            outcome = exc
        except OSError as exc:
            outcome = _connection_error(exc)
        finally:
            conn.close()
            with self._lock:
                self._threads.discard(threading.current_thread())
        if self.on_session is not None:
            self.on_session(outcome)


# The schema from which a station reads entries marked « redacted » (#17, legacy seals):
# an earlier version would refuse the batch as malformed. Such a station gets an origin's
# entries up to the first redacted one, and the rest once it is upgraded (or from a peer
# of its own version that still holds them as first written).
REDACTED_ENTRIES_SCHEMA = 20


def _before_redacted(entries: list[OpEntry]) -> list[OpEntry]:
    for index, entry in enumerate(entries):
        if entry.redacted is not None:
            return entries[:index]
    return entries
