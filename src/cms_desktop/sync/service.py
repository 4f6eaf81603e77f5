"""The sync service: serves peers, pushes on commit, catches up every few seconds.

It runs on its own threads (never the UI thread): the TLS server, one loop that syncs with
every known peer when woken by a local commit or a received batch, or after ``interval_s``,
and zeroconf. ``status()`` gives what the status bar shows; ``on_status`` is called after
each pass (the UI turns it into a Qt signal).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from cms_desktop.domain.hlc import MAX_FUTURE_SKEW_MS
from cms_desktop.domain.paris_time import in_paris, paris_text, paris_today
from cms_desktop.storage import keyslot_sync
from cms_desktop.storage.models import Replicated, SyncConflict, SyncPeer, SyncStation, utcnow
from cms_desktop.storage.origin import station_of_origin
from cms_desktop.storage.store import ChangeWatch, Store
from cms_desktop.sync.db_blobs import DbBlobStore
from cms_desktop.sync.db_store import DbReplicaStore
from cms_desktop.sync.discovery import (
    PeerAddress,
    PeerDirectory,
    PeerSource,
    SyncDiscovery,
    build_service_info,
    site_fingerprint,
)
from cms_desktop.sync.errors import PeerRejected, RemoteError, SyncError, Unreachable
from cms_desktop.sync.identity import (
    listen_port,
    require_credentials,
    revocation,
    static_peers,
)
from cms_desktop.sync.transport import SyncClient, SyncPeerServer, SyncReport

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0
# How often the loop looks for entries written by another process of this station (the
# application while ``sync serve`` runs): their commits fire no event here. A look is a
# ``PRAGMA data_version`` (``Store.change_watch``), the op-log is queried only after a
# commit: looking every 20 ms costs about 0.1 ms of CPU a second, and what the application
# saves leaves for the peers within 20 ms instead of up to 250 ms.
OTHER_PROCESS_POLL_S = 0.02
LOCK_NAME = "sync-service.lock"


class AlreadyServing(SyncError):
    """Another process of this station (``sync serve``, or the application) runs its sync
    service on the same data directory: it serves and pushes for both."""

    def __init__(self) -> None:
        super().__init__(
            "La synchronisation de ce poste est déjà assurée par un autre programme ouvert sur "
            "le même dossier de données (« sync serve » ou l'application) : elle transmet "
            "aussi les saisies faites ici."
        )


MAX_PARALLEL_PEERS = 8  # a centre has seven stations; more are reached in turns


class SyncState(StrEnum):
    UP_TO_DATE = "up_to_date"
    WAITING = "waiting"
    UNREACHABLE = "unreachable"
    CONFLICTS = "conflicts"
    UPDATE_NEEDED = "update_needed"
    ALONE = "alone"
    NOT_YET = "not_yet"  # other stations are paired, none has been reached yet
    CLOCK_AHEAD = "clock_ahead"  # a station's changes wait: its clock is ahead of ours
    OWN_CLOCK = "own_clock"  # this station's clock disagrees with every peer's
    REFUSED = "refused"  # every peer answering refuses this station's certificate
    DIVERGED = "diverged"  # a station's history differs here and on a peer (restored copy)
    FAILED = "failed"  # a peer answers but the exchange with it fails (says why)


@dataclass(frozen=True)
class Divergence:
    """A station's history that differs here and on a peer (``DbReplicaStore.note_diverged``)."""

    station: str  # the name of the station whose history split
    own: bool  # that station is this one
    seq: int  # the last entry held here that the peer contradicts
    peer: str  # the name of the peer whose history differs


@dataclass(frozen=True)
class SyncStatus:
    state: SyncState
    waiting: int  # local changes no reachable peer has acknowledged yet
    conflicts: int
    held: int
    unreachable_since: datetime | None
    newer_stations: tuple[str, ...]
    last_sync: datetime | None
    clock_ahead: tuple[str, ...] = ()  # names of the stations whose clock is ahead
    # This station's clock minus the peers' (the smallest gap), when it is off by more than
    # the tolerated skew with every peer reached; None otherwise.
    own_clock_off_ms: int | None = None
    clock_peers: int = 0  # how many peers' clocks that comparison rests on
    diverged: tuple[Divergence, ...] = ()
    # (peer name, error) of the peers that answer but whose exchange fails.
    failing: tuple[tuple[str, str], ...] = ()

    @property
    def advice(self) -> str:
        """What is wrong and what to do, in full, for the Synchronisation page and ``sync
        status`` (the status bar's ``text`` stays one short line); "" when nothing to add."""
        if self.state is SyncState.DIVERGED and self.diverged:
            return _diverged_text(self.diverged[0])
        if self.state is SyncState.FAILED and self.failing:
            name, error = self.failing[0]
            return f"Dernier échange avec le poste « {name} » : {error}"
        return ""

    @property
    def text(self) -> str:
        """The French status-bar wording."""
        if self.state is SyncState.DIVERGED and self.diverged:
            split = self.diverged[0]
            whose = "de ce poste" if split.own else f"du poste « {split.station} »"
            return f"Synchronisation : historique {whose} divergé (voir la page Synchronisation)"
        if self.state is SyncState.UPDATE_NEEDED:
            return "Synchronisation : mettez ce poste à jour (un poste utilise une version plus récente)"
        if self.state is SyncState.REFUSED:
            return (
                "Synchronisation : refusée par les autres postes, ce poste a été retiré du "
                "centre (l'administrateur peut l'appairer de nouveau)"
            )
        if self.state is SyncState.OWN_CLOCK and self.own_clock_off_ms is not None:
            gap = _duration(abs(self.own_clock_off_ms))
            if self.clock_peers < 2:  # two clocks: which one is wrong cannot be told
                return (
                    f"Synchronisation : les horloges de ce poste et de l'autre poste diffèrent "
                    f"de {gap}, vérifiez leur date et leur heure"
                )
            way = "en avance" if self.own_clock_off_ms > 0 else "en retard"
            return (
                f"Synchronisation : l'horloge de ce poste est {way} de {gap} sur les autres "
                "postes, réglez sa date et son heure"
            )
        if self.state is SyncState.CLOCK_AHEAD:
            names = ", ".join(f"« {name} »" for name in self.clock_ahead)
            if len(self.clock_ahead) > 1:
                return (
                    f"Synchronisation : horloge en avance sur les postes {names}, leurs "
                    "modifications attendent (réglez leur date et leur heure)"
                )
            return (
                f"Synchronisation : horloge en avance sur le poste {names}, ses "
                "modifications attendent (réglez sa date et son heure)"
            )
        if self.state is SyncState.CONFLICTS:
            plural = "s" if self.conflicts > 1 else ""
            return f"Synchronisation : {self.conflicts} conflit{plural} à trancher"
        if self.state is SyncState.FAILED and self.failing:
            return f"Synchronisation : échange en échec avec le poste « {self.failing[0][0]} »"
        if self.state is SyncState.UNREACHABLE and self.unreachable_since is not None:
            since = paris_text(self.unreachable_since)
            return f"Synchronisation : poste injoignable depuis le {since}"
        if self.state is SyncState.WAITING:
            plural = "s" if self.waiting > 1 else ""
            return f"Synchronisation : {self.waiting} modification{plural} en attente"
        if self.state is SyncState.ALONE:
            return "Synchronisation : aucun autre poste connu"
        if self.state is SyncState.NOT_YET:
            return "Synchronisation : pas encore de contact avec les autres postes"
        if self.last_sync is not None:
            # When it was last true: a status that never changes is otherwise not trusted.
            return f"Synchronisation : à jour (dernier échange {_when_short(self.last_sync)})"
        return "Synchronisation : à jour"


def _diverged_text(split: Divergence) -> str:
    """What is wrong and what to do; the same on every station that sees the split."""
    after = split.seq + 1
    if split.own:
        return (
            "Ce poste a été remis d'une copie et ses modifications à partir "
            f"de la n° {after} diffèrent de celles que détient « {split.peer} » ; elles ne "
            "sont plus échangées. Retirez ce poste du centre puis appairez-le de nouveau "
            "(les saisies faites ici depuis la copie sont à refaire)"
        )
    return (
        f"L'historique du poste « {split.station} » diffère ici et sur "
        f"« {split.peer} » à partir de sa modification n° {after} (poste remis d'une copie) ; "
        f"il n'est plus échangé. Retirez le poste « {split.station} » du centre puis "
        "appairez-le de nouveau"
    )


def _when_short(moment: datetime) -> str:
    """« à 14:05 » today, « le 05/12/2026 à 14:05 » before (Paris time)."""
    local = in_paris(moment)
    if local.date() == paris_today():
        return f"à {local:%H:%M}"
    return f"le {local:%d/%m/%Y à %H:%M}"


def _duration(ms: int) -> str:
    """« 2 h 05 », « 12 min », « 3 jours »."""
    minutes = ms // 60_000
    if minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)} jours"
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d}"
    return f"{minutes} min"


def own_clock_off_ms(offsets: Iterable[int], tolerance_ms: int = MAX_FUTURE_SKEW_MS) -> int | None:
    """From the peers' clocks minus ours: how far ours is off, if it is off with every one
    of them by more than ``tolerance_ms`` in the same direction (one wrong peer does not
    make this station wrong). Positive: this station is ahead."""
    gaps = [-offset for offset in offsets]
    if gaps and all(gap > tolerance_ms for gap in gaps):
        return min(gaps)
    if gaps and all(gap < -tolerance_ms for gap in gaps):
        return max(gaps)
    return None


def read_status(
    store: Store,
    replica: DbReplicaStore,
    *,
    clock_off_ms: int | None = None,
    clock_peers: int = 0,
    refused: bool = False,
    own_seq: int | None = None,
) -> SyncStatus:
    """The sync state from the database (works without a running service, e.g. the CLI).
    ``own_seq``: count this station's entries up to that seq only (the CLI's one-shot
    status leaves out the record of its own login, which no pass has had a chance to send)."""
    with store.read() as session:
        conflicts = int(
            session.scalar(
                select(func.count())
                .select_from(SyncConflict)
                .where(SyncConflict.resolved_at.is_(None), SyncConflict.deleted.is_(False))
            )
            or 0
        )
        peers = list(session.scalars(select(SyncPeer)))
        stations = session.execute(
            select(SyncStation.id, SyncStation.name, SyncStation.revoked, SyncStation.deleted)
        ).all()
    names = {station_id: name for station_id, name, _, _ in stations if name}
    removed = {station_id for station_id, _, revoked, deleted in stations if revoked or deleted}
    others = sum(
        1
        for station_id, _, revoked, deleted in stations
        if station_id != replica.station_id and not revoked and not deleted
    )
    held = replica.held_summary()
    own = replica.own_seq() if own_seq is None else own_seq
    # A removed station is no peer: neither waited for nor « injoignable ».
    peers = [p for p in peers if p.station_id not in removed]
    contacted = [p for p in peers if p.last_contact is not None]
    waiting = max(0, own - min((p.acked_seq for p in contacted), default=0))
    down = [p.unreachable_since for p in peers if p.unreachable_since is not None]
    failing = tuple(
        (names.get(p.station_id, p.station_id[:8]), p.last_error)
        for p in peers
        if p.last_error and p.unreachable_since is None
    )
    last = max((p.last_contact for p in contacted if p.last_contact), default=None)
    splits = tuple(
        Divergence(
            names.get(station_of_origin(origin), origin[:8]),
            station_of_origin(origin) == replica.station_id,
            int(str(info.get("seq", 0))),
            names.get(str(info.get("peer", "")), str(info.get("peer", ""))[:8]),
        )
        for origin, info in sorted(replica.diverged().items())
        if station_of_origin(origin) not in removed
    )
    if refused:
        state = SyncState.REFUSED
    elif splits:
        state = SyncState.DIVERGED
    elif held.newer_schema_origins:
        state = SyncState.UPDATE_NEEDED
    elif clock_off_ms is not None:
        state = SyncState.OWN_CLOCK
    elif held.clock_ahead_origins:
        # Before conflicts: nothing that station types reaches here until its clock is set.
        state = SyncState.CLOCK_AHEAD
    elif conflicts:
        state = SyncState.CONFLICTS
    elif failing:
        state = SyncState.FAILED
    elif down:
        state = SyncState.UNREACHABLE
    elif not peers:
        # Just paired (the centre's stations are known, none reached yet) or truly alone.
        state = SyncState.NOT_YET if others else SyncState.ALONE
    elif waiting:
        state = SyncState.WAITING
    else:
        state = SyncState.UP_TO_DATE
    return SyncStatus(
        state,
        waiting,
        conflicts,
        held.total,
        min(down) if down else None,
        held.newer_schema_origins,
        last,
        tuple(
            names.get(station_of_origin(origin), origin[:8]) for origin in held.clock_ahead_origins
        ),
        clock_off_ms,
        clock_peers,
        splits,
        failing,
    )


class SyncService:
    def __init__(
        self,
        store: Store,
        *,
        host: str = "0.0.0.0",
        port: int | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        discovery: bool = True,
        advertise: list[str] | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        exclusive: bool = True,
    ) -> None:
        """``exclusive``: the station's one long-running service (the application's, or
        ``sync serve``); a one-shot pass (``sync now``) runs beside it."""
        self.store = store
        self._exclusive = exclusive
        self.credentials = require_credentials(store)
        self._signer = self.credentials.signing_key()
        self.replica = DbReplicaStore(store)
        self.interval_s = interval_s
        self.on_status = on_status
        self._port = listen_port(store) if port is None else port
        self._host = host
        self._use_discovery = discovery
        self._advertise = advertise or ["127.0.0.1"]
        self.directory = PeerDirectory(store.station_id, static_peers(store))
        # What the last sessions told of each peer (sessions run on several threads).
        self._clock_offsets: dict[str, int] = {}  # peer → its wall clock minus ours
        self._peer_lock = threading.Lock()
        # Peer → its last answer was « your certificate is refused » (this station removed).
        self._refused: dict[str, bool] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pass_lock = threading.Lock()
        self._server: SyncPeerServer | None = None
        self._discovery: SyncDiscovery | None = None
        self._thread: threading.Thread | None = None
        self._lock: FileLock | None = None
        # One session worker per peer address: (thread, its wake event).
        self._workers: dict[tuple[str, int], tuple[threading.Thread, threading.Event]] = {}
        self.blobs = DbBlobStore(store)
        self._client = SyncClient(
            self.replica,
            self.credentials,
            revocation=lambda: revocation(store),
            timeout_s=15,
            blobs=self.blobs,
        )

    # --- life cycle -------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        return self._server.address

    def start(self) -> SyncService:
        """Raises ``AlreadyServing`` if another process of this station runs its service
        (one server per station: both would listen on its port and push the same entries)."""
        if not self._exclusive:
            return self._start()
        self._lock = FileLock(
            str(self.store.data_dir.path / LOCK_NAME), timeout=0, thread_local=False
        )
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            raise AlreadyServing() from None
        try:
            return self._start()
        except BaseException:
            self._lock.release()
            self._lock = None
            raise

    def _start(self) -> SyncService:
        self._server = SyncPeerServer(
            self.replica,
            self.credentials,
            host=self._host,
            port=self._port,
            revocation=lambda: revocation(self.store),
            on_session=self._on_served,
            blobs=self.blobs,
        ).start()
        self._client.listen_port = self._server.address[1]
        event.listen(self.store.sessions, "after_flush", self._on_flush)
        event.listen(self.store.sessions, "after_commit", self._on_commit)
        if self._use_discovery:
            self._start_discovery()
        self.replica.retry_held()  # e.g. entries of a newer schema, after this upgrade
        try:  # a crash may have come between a received account and the slot file
            keyslot_sync.refresh_key_slots(self.store)
        except OSError:
            log.warning("sync: key-slot file could not be updated")
        self._thread = threading.Thread(target=self._loop, name="sync-loop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Idempotent: the window closing and the store closing may both ask."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        self._client.abort_all()  # a hung peer must not hold up a logout
        if self._thread is not None:
            self._thread.join(20)
        with self._peer_lock:
            workers = list(self._workers.values())
        for _, wake in workers:
            wake.set()
        self._client.abort_all()  # sessions a worker began meanwhile
        for thread, _ in workers:
            thread.join(20)
        for name, listener in (("after_flush", self._on_flush), ("after_commit", self._on_commit)):
            if event.contains(self.store.sessions, name, listener):
                event.remove(self.store.sessions, name, listener)
        if self._discovery is not None:
            self._discovery.stop()
        if self._server is not None:
            self._server.stop()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _start_discovery(self) -> None:
        try:
            info = build_service_info(
                self.store.station_id,
                self.address[1],
                self._advertise,
                site_fingerprint(self.credentials.ca_cert_pem),
                self.replica.schema_version,
            )
            self._discovery = SyncDiscovery(
                self.directory, info, site_fingerprint(self.credentials.ca_cert_pem)
            )
            self._discovery.start()
        except OSError:
            log.warning("sync: multicast unavailable, using the fixed peer list only")
            self._discovery = None

    def wake(self) -> None:
        self._wake.set()

    def _on_flush(self, session: Session, context: object) -> None:
        # Only changes to replicated rows are worth a push (not our own peer bookkeeping).
        if any(isinstance(obj, Replicated) for obj in (*session.new, *session.dirty)):
            session.info["sync_dirty"] = True

    def _on_commit(self, session: Session) -> None:
        if session.info.pop("sync_dirty", False):
            self._wake.set()

    def _on_served(self, outcome: SyncReport | SyncError) -> None:
        if isinstance(outcome, SyncReport):
            self._note_clock(outcome)
            own = self.replica.own_seq()
            learned = None
            if outcome.peer_listen is not None:
                host, port = outcome.peer_listen
                learned = PeerAddress(host, port, outcome.peer_id, PeerSource.LEARNED)
                self.directory.found(learned)  # pushed to from now on, like a found peer
            self._record(outcome.peer_id, learned, None, own, report=outcome)
            if outcome.received:
                self._wake.set()  # relay what we received to the other peers

    # --- passes -----------------------------------------------------------------------

    def _loop(self) -> None:
        watch = self.store.change_watch()
        try:
            seen = self.replica.own_seq()
            while not self._stop.is_set():
                self._wait(seen, watch)
                self._wake.clear()
                seen = self.replica.own_seq()
                if self._stop.is_set():
                    return
                try:
                    self._kick_peers()
                except Exception as exc:  # the loop must survive anything; no details in logs
                    log.warning("sync: pass failed: %s", type(exc).__name__)
        finally:
            watch.close()

    def _kick_peers(self) -> None:
        """Wake the session worker of every known peer, without waiting for any: each peer
        has its own (``_peer_loop``), so a hung PC costs only its own session, never the
        push to the others (a pass that waited for every peer held the next push to all of
        them for the hung one's 15 s timeout)."""
        self.replica.retry_held()
        peers = self.directory.peers()
        self._forget_dropped_addresses(peers)
        for peer in peers:
            key = (peer.host, peer.port)
            with self._peer_lock:
                worker = self._workers.get(key)
                if worker is None or not worker[0].is_alive():
                    wake = threading.Event()
                    thread = threading.Thread(
                        target=self._peer_loop,
                        args=(peer, wake),
                        name=f"sync-peer-{peer.host}:{peer.port}",
                        daemon=True,
                    )
                    worker = self._workers[key] = (thread, wake)
                    thread.start()
            worker[1].set()
        if not peers:
            self._publish()

    def _peer_loop(self, peer: PeerAddress, wake: threading.Event) -> None:
        while True:
            wake.wait()
            wake.clear()
            if self._stop.is_set():
                return
            try:
                self._sync_with(peer)
                self._publish()
            except Exception as exc:  # this worker must survive; details stay out of logs
                log.warning("sync: session failed: %s", type(exc).__name__)

    def _publish(self) -> None:
        if self.on_status is not None:
            self.on_status(self.status())

    def _wait(self, seen: int, watch: ChangeWatch) -> None:
        """Until woken, ``interval_s`` has passed, or another process of this station (the
        application beside ``sync serve``) has written entries to push."""
        deadline = time.monotonic() + self.interval_s
        while not self._wake.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._wake.wait(min(left, OTHER_PROCESS_POLL_S)):
                return
            try:
                if watch.changed() and self.replica.own_seq() > seen:
                    return
            except Exception:  # a busy or closing store: the next pass will tell
                return

    def request_pass(self) -> None:
        """Ask the service's own thread for a pass now (a person pressed « Synchroniser
        maintenant »); returns at once, the status callback reports the outcome."""
        self._wake.set()

    def sync_now(self) -> SyncStatus:
        """One pass with every known peer; returns the new status."""
        with self._pass_lock:
            self.replica.retry_held()
            peers = self.directory.peers()
            self._forget_dropped_addresses(peers)
            # Every peer at once: a PC switched off (or hung) must not hold back the push
            # to the others for its connection timeout. Writes stay serialised by the store.
            if len(peers) <= 1:
                for peer in peers:
                    self._sync_with(peer)
            else:
                with ThreadPoolExecutor(
                    max_workers=min(len(peers), MAX_PARALLEL_PEERS),
                    thread_name_prefix="sync-peer",
                ) as pool:
                    for done in [pool.submit(self._sync_with, peer) for peer in peers]:
                        done.result()
        status = self.status()
        if self.on_status is not None:
            self.on_status(status)
        return status

    def _forget_dropped_addresses(self, peers: list[PeerAddress]) -> None:
        """A fixed-list address that never answered and is no longer listed (a corrected
        typo, a station moved) must not keep the status at « injoignable » for ever."""
        listed = {f"{p.host}:{p.port}" for p in peers if not p.station_id}
        with self.store.write() as session:
            for row in session.scalars(select(SyncPeer).where(SyncPeer.last_contact.is_(None))):
                if row.station_id == f"{row.host}:{row.port}" and row.station_id not in listed:
                    session.delete(row)

    def _sync_with(self, peer: PeerAddress) -> None:
        # The audit heads are signed before ``own`` is read (the session would sign them
        # otherwise, after it): what this exchange sends is then all counted as acked.
        self.replica.attest_audit_heads(self._signer)
        own = self.replica.own_seq()
        try:
            report = self._client.sync_with(peer.host, peer.port, expected_peer=peer.station_id)
        except SyncError as exc:
            if self._stop.is_set():
                # Cut by ``stop`` (a logout, the end of ``sync now``): the peer did nothing
                # wrong, and recording it would show « échange en échec » at the next start.
                return
            # A station we refuse (removed from the centre) is recorded as itself: the
            # status leaves removed stations out instead of calling them « injoignable ».
            known = exc.station_id if isinstance(exc, PeerRejected) else ""
            key = known or self._key_of(peer)
            refused = isinstance(exc, RemoteError) and exc.code == "peer_rejected"
            with self._peer_lock:
                self._refused[key] = refused
            if not isinstance(exc, Unreachable):  # it answered: say what went wrong
                log.warning("sync: exchange with station %s failed: %s", key, exc)
            self._record(key, peer, str(exc), None, unreachable=isinstance(exc, Unreachable))
            return
        with self._peer_lock:
            self._refused.pop(f"{peer.host}:{peer.port}", None)  # known by its id from now
            self._refused[report.peer_id] = False
        self._note_clock(report)
        self._record(report.peer_id, peer, None, own, report=report)
        if report.schema_notice:
            log.warning("sync: schema differs from station %s", report.peer_id)

    def _key_of(self, peer: PeerAddress) -> str:
        """The row a failed attempt is recorded on: the peer's station, if known. A
        fixed-list address carries no station id; once a station has answered there, its
        failures are that station's (not a second, anonymous row for the same PC)."""
        if peer.station_id:
            return peer.station_id
        address = f"{peer.host}:{peer.port}"
        with self.store.read() as session:
            known = session.scalars(
                select(SyncPeer.station_id)
                .where(
                    SyncPeer.host == peer.host,
                    SyncPeer.port == peer.port,
                    SyncPeer.station_id != address,
                )
                .order_by(SyncPeer.last_contact.desc())
            ).first()
        return known or address

    def _record(
        self,
        key: str,
        peer: PeerAddress | None,
        error: str | None,
        acked: int | None,
        *,
        unreachable: bool = True,
        report: SyncReport | None = None,
    ) -> None:
        now = utcnow()
        with self.store.write() as session:
            if peer is not None and key != f"{peer.host}:{peer.port}":
                # A fixed-list peer is known by its address until it shows who it is.
                placeholder = session.get(SyncPeer, f"{peer.host}:{peer.port}")
                if placeholder is not None and placeholder.station_id != key:
                    session.delete(placeholder)
            row = session.get(SyncPeer, key)
            if row is None:
                row = SyncPeer(station_id=key, host="", port=0, last_error="")
                session.add(row)
            if peer is not None:
                row.host, row.port = peer.host, peer.port
            if acked is not None:
                row.acked_seq = max(row.acked_seq or 0, acked)
            if report is not None:  # what its HELLO said: which station needs an update
                row.app_version, row.schema = report.peer_version, report.peer_schema
            if error is None:
                row.last_contact, row.last_error, row.unreachable_since = now, "", None
            elif unreachable:
                row.last_error = error
                row.unreachable_since = row.unreachable_since or now
            else:  # it answers: not « injoignable », the error says what is wrong
                row.last_error, row.unreachable_since = error, None

    def status(self) -> SyncStatus:
        with self._peer_lock:
            offsets = list(self._clock_offsets.values())
            answers = list(self._refused.values())
        return read_status(
            self.store,
            self.replica,
            clock_off_ms=own_clock_off_ms(offsets),
            clock_peers=len(offsets),
            refused=bool(answers) and all(answers),
        )

    def _note_clock(self, report: SyncReport) -> None:
        """Each session's HELLO tells the peer's clock (sessions run on several threads)."""
        if report.peer_clock_offset_ms is not None:
            with self._peer_lock:
                self._clock_offsets[report.peer_id] = report.peer_clock_offset_ms


def peer_rows(store: Store) -> list[dict[str, Any]]:
    with store.read() as session:
        return [
            {
                "station_id": p.station_id,
                "host": p.host,
                "port": p.port,
                "last_contact": p.last_contact,
                "unreachable_since": p.unreachable_since,
                "last_error": p.last_error,
                "app_version": p.app_version,
                "schema": p.schema,
            }
            for p in session.scalars(select(SyncPeer).order_by(SyncPeer.station_id))
        ]
