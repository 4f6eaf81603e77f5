"""Finding peers: zeroconf service ``_cms-sync._tcp.local.`` plus a fixed list as fallback.

Managed networks often block multicast, so the fixed list (``host:port`` per line or comma)
always counts too. Discovery only suggests addresses: trust comes from mutual TLS.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from zeroconf import ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

from cms_desktop.sync.errors import SyncError

SERVICE_TYPE = "_cms-sync._tcp.local."
PROTOCOL_VERSION = "1"
DEFAULT_PORT = 47_310
_RESOLVE_TIMEOUT_MS = 3000


class PeerSource(StrEnum):
    MDNS = "mdns"
    STATIC = "static"
    LEARNED = "learned"  # the station contacted us and said where it listens (in memory only)


@dataclass(frozen=True)
class PeerAddress:
    host: str
    port: int
    station_id: str | None = None  # None for a fixed-list entry until TLS tells us
    source: PeerSource = PeerSource.STATIC


class PeerListError(SyncError, ValueError):
    """A line of the fixed peer list cannot be read."""


def site_fingerprint(ca_cert_pem: bytes) -> str:
    """Short tag of the site CA, so two centres on one network ignore each other."""
    return hashlib.sha256(ca_cert_pem).hexdigest()[:16]


def service_name(station_id: str) -> str:
    return f"cms-{station_id}.{SERVICE_TYPE}"


def build_service_info(
    station_id: str, port: int, addresses: Sequence[str], site: str, schema_version: int
) -> ServiceInfo:
    """The record this station announces (addresses are IPv4/IPv6 literals)."""
    return ServiceInfo(
        SERVICE_TYPE,
        service_name(station_id),
        port=port,
        addresses=[ipaddress.ip_address(address).packed for address in addresses],
        properties={
            "station": station_id,
            "site": site,
            "schema": str(schema_version),
            "v": PROTOCOL_VERSION,
        },
        server=f"station-{station_id.lower()}.local.",
    )


def parse_service_info(info: ServiceInfo, site: str) -> PeerAddress | None:
    """A peer from a resolved record, or None if it is foreign, incomplete or malformed."""
    props = {
        key.decode("utf-8", "replace"): (value or b"").decode("utf-8", "replace")
        for key, value in (info.properties or {}).items()
    }
    addresses = info.parsed_addresses()
    if (
        props.get("site") != site
        or props.get("v") != PROTOCOL_VERSION
        or not props.get("station")
        or not addresses
        or not info.port
    ):
        return None
    return PeerAddress(addresses[0], int(info.port), props["station"], PeerSource.MDNS)


def parse_peer_list(text: str, default_port: int = DEFAULT_PORT) -> list[PeerAddress]:
    """Read ``host[:port]`` items (``[v6]:port`` for IPv6), one per line or comma-separated."""
    peers: list[PeerAddress] = []
    for raw in text.replace(",", "\n").splitlines():
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        host, port_text = item, ""
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port_text = rest.removeprefix(":")
        elif item.count(":") == 1:
            host, port_text = item.split(":")
        try:
            port = int(port_text) if port_text else default_port
        except ValueError as exc:
            raise PeerListError(f"Adresse de poste invalide : « {item} ».") from exc
        if not host or not 0 < port < 65536:
            raise PeerListError(f"Adresse de poste invalide : « {item} ».")
        peers.append(PeerAddress(host, port))
    return peers


class PeerDirectory:
    """Thread-safe union of the fixed list and peers announced on the network."""

    def __init__(self, own_station_id: str, static: Iterable[PeerAddress] = ()) -> None:
        self._own = own_station_id
        self._static = list(static)
        self._found: dict[str, PeerAddress] = {}
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def found(self, peer: PeerAddress) -> None:
        if peer.station_id is None or peer.station_id == self._own:
            return
        with self._lock:
            self._found[peer.station_id] = peer
        self.changed.set()

    def lost(self, station_id: str) -> None:
        with self._lock:
            self._found.pop(station_id, None)
        self.changed.set()

    def peers(self) -> list[PeerAddress]:
        with self._lock:
            found = list(self._found.values())
        known = {(peer.host, peer.port) for peer in found}
        return found + [peer for peer in self._static if (peer.host, peer.port) not in known]


class SyncDiscovery:
    """Announces this station and browses for the others; feeds a PeerDirectory."""

    def __init__(
        self,
        directory: PeerDirectory,
        info: ServiceInfo,
        site: str,
        zeroconf_factory: Callable[[], Zeroconf] = Zeroconf,
    ) -> None:
        self.directory = directory
        self.info = info
        self.site = site
        self._factory = zeroconf_factory
        self._zc: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None

    def start(self) -> None:
        """Raises OSError when the machine does not allow multicast; the fixed list remains."""
        self._zc = self._factory()
        self._zc.register_service(self.info)
        self._browser = ServiceBrowser(self._zc, SERVICE_TYPE, handlers=[self._on_change])

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.cancel()
        if self._zc is not None:
            self._zc.unregister_service(self.info)
            self._zc.close()
        self._browser = self._zc = None

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            station = name.removeprefix("cms-").removesuffix("." + SERVICE_TYPE)
            self.directory.lost(station)
            return
        # Resolving blocks; zeroconf calls handlers on its own thread, so hand it off.
        threading.Thread(target=self._resolve, args=(zeroconf, name), daemon=True).start()

    def _resolve(self, zeroconf: Zeroconf, name: str) -> None:
        info = zeroconf.get_service_info(SERVICE_TYPE, name, timeout=_RESOLVE_TIMEOUT_MS)
        if info is not None and (peer := parse_service_info(info, self.site)) is not None:
            self.directory.found(peer)


def local_addresses() -> list[str]:
    """Best-effort IPv4 addresses of this machine to announce (no traffic is sent)."""
    addresses: set[str] = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            addresses.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(addresses) or ["127.0.0.1"]
