"""The one guarded way from the server to the outside world.

Every location a tenant, a worker or an anonymous client names is hostile: a URL may point at the
server's own ports, at the cloud's metadata service or at a neighbour on the private network, and
a host name may resolve to a public address when checked and to loopback a moment later (DNS
rebinding). So whatever the server fetches or posts to on someone's behalf (task images, model
endpoints, callbacks) goes through ``OutsideClient``, which:

- speaks http and https only;
- resolves each host once, refuses it unless every address it resolves to is public (or inside a
  network the operator opened with ``QUORUM_OUTBOUND_ALLOWED_NETWORKS``), and connects to the
  address it checked, never resolving again;
- follows redirects hop by hop, each hop checked as the first;
- caps the bytes it reads and the time a whole exchange takes, and ignores proxy settings from
  the environment (a proxy would connect on our behalf, unchecked).

Local paths are the other half: ``contained_file`` resolves a relative path inside a folder the
operator named and refuses anything that leaves it, symbolic links included. ``sniff_media`` names
a file's type by its first bytes, so stored files are what their bytes say, not their names.
"""

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import certifi
import httpcore
import httpx

import quorum
from quorum.errors import Invalid
from quorum.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

SCHEMES = ("http", "https")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Prefixes whose addresses carry an IPv4 address inside an IPv6 one; the embedded address decides.
NAT64_PREFIXES = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)
# Never public, whatever the running Python's ``is_global`` table says (it has changed between
# releases): IETF protocol assignments, this network, reserved, documentation, discard-only,
# unique local, link-local and site-local ranges.
NEVER_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
    )
)


class Unreachable(Invalid):
    """A location the server could not reach (or will not: see ``Refused``); the message says
    why, without details of networks the caller may not see."""


class Refused(Unreachable):
    """A location the server will not reach whatever the moment: its scheme, its addresses."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (numeric forms such as ``0x7f.1``
    included: the C library reads them, so they are resolved and checked like names)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unreachable(f"host {host[:200]!r} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if any(address in prefix for prefix in NAT64_PREFIXES) or (
        packed[:12] == bytes(12) and packed[12:] not in (bytes(4), bytes(3) + b"\x01")
    ):
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses, judged by what they stand for."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None:
            return False  # a tunnel whose far end we cannot judge
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    if any(address.version == n.version and address in n for n in NEVER_PUBLIC):
        return False
    return address.is_global and not (
        address.is_multicast or address.is_unspecified or address.is_reserved
    )


@dataclass(frozen=True)
class NetworkPolicy:
    """Which addresses the server may connect to: public ones, and the networks the operator
    opened (on-premise model servers, a private callback receiver). Tenants never widen it."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    resolve: Resolver = resolve_host

    @classmethod
    def of(cls, networks: Iterable[Any], resolve: Resolver = resolve_host) -> "NetworkPolicy":
        return cls(tuple(ipaddress.ip_network(str(n), strict=False) for n in networks), resolve)

    def allows(self, address: IPAddress) -> bool:
        return is_public(address) or any(
            address.version == network.version and address in network
            for network in self.allowed_networks
        )

    def checked_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``; refused unless every one is allowed (a name
        that resolves to one public and one private address is refused whole)."""
        addresses = self.resolve(host, port)
        if not addresses:
            raise Unreachable(f"host {host[:200]!r} does not resolve")
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not self.allows(address):
                raise Refused(
                    f"host {host[:200]!r} resolves to {address}, which is not a public address; an "
                    "operator can open private networks with QUORUM_OUTBOUND_ALLOWED_NETWORKS"
                )
        return addresses


def checked_url(url: str) -> httpx.URL:
    """``url`` parsed, when it is an absolute http(s) URL with a host; refused otherwise."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise Refused(f"not a valid URL: {url[:200]!r}") from None
    if parsed.scheme not in SCHEMES or not parsed.host:
        raise Refused(f"only http and https URLs with a host are fetched, got {url[:200]!r}")
    return parsed


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's network layer, resolving and checking each host itself and connecting to the
    addresses it checked. Every connection of the client, redirects included, comes through
    here, so no path reaches a socket unchecked."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in self.policy.checked_addresses(host, port):
            try:
                # TLS is started afterwards with the URL's host name (SNI and certificate check).
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise Refused("unix sockets are never reached")


class _GuardedTransport(httpx.BaseTransport):
    """An httpx transport over a connection pool whose only way out is ``_GuardedBackend``."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self.pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = self.pool.handle_request(core_request)
        except httpcore.TimeoutException as exc:
            raise httpx.TimeoutException(str(exc), request=request) from exc
        except httpcore.NetworkError as exc:
            raise httpx.NetworkError(str(exc), request=request) from exc
        except httpcore.ProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_CoreStream(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.pool.close()


class _CoreStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self.response = response

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.response.iter_stream()
        except httpcore.TimeoutException as exc:
            raise httpx.ReadTimeout(str(exc)) from exc
        except httpcore.NetworkError as exc:
            raise httpx.ReadError(str(exc)) from exc

    def close(self) -> None:
        self.response.close()


@dataclass(frozen=True)
class Fetched:
    """A reply read whole (within the limits): its status, headers and body."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass
class OutsideClient:
    """Fetches and posts to tenant-named URLs under a ``NetworkPolicy``; thread-safe, and meant
    to live as long as its user (a sender loop, a blob store) so connections are reused."""

    policy: NetworkPolicy
    timeout_seconds: float = 30.0
    user_agent: str = "Quorum"
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            transport=_GuardedTransport(self.policy),
            timeout=self.timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            # Bodies are counted as they arrive; a compressed one would be counted small.
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"},
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        max_bytes: int,
        max_redirects: int = 0,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fetched:
        """One exchange, following at most ``max_redirects`` redirects (each checked as the
        first; a redirected POST becomes a GET only where HTTP says so). Raises ``Unreachable``
        for a refused location, a failed connection, a timeout or a body over ``max_bytes``;
        with ``max_bytes=0`` only the status and headers are kept and the body is not read."""
        deadline = time.monotonic() + self.timeout_seconds
        target = checked_url(url)
        redirects = 0
        while True:
            request = self.http.build_request(method, target, content=content, headers=headers)
            fetched = self._exchange(request, max_bytes=max_bytes, deadline=deadline)
            location = fetched.headers.get("location")
            if fetched.status_code not in REDIRECT_STATUSES or not location or not max_redirects:
                return fetched
            if redirects == max_redirects:
                raise Unreachable(f"{url[:200]} redirects more than {max_redirects} times")
            redirects += 1
            target = checked_url(str(target.join(location)))
            if fetched.status_code == 303 or (
                fetched.status_code in (301, 302) and method == "POST"
            ):
                method, content = "GET", None

    def get(self, url: str, *, max_bytes: int, max_redirects: int = 5) -> Fetched:
        return self.request("GET", url, max_bytes=max_bytes, max_redirects=max_redirects)

    def _exchange(self, request: httpx.Request, *, max_bytes: int, deadline: float) -> Fetched:
        host = request.url.host
        try:
            response = self.http.send(request, stream=True)
        except httpx.TimeoutException:
            raise Unreachable(f"{host} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"could not reach {host}: {exc.__class__.__name__}") from None
        if max_bytes == 0:
            response.close()
            return Fetched(response.status_code, response.headers, b"")
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise Unreachable(f"{host} sent more than {max_bytes} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise Unreachable(f"{host} sent more than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise Unreachable(f"{host} did not finish in {self.timeout_seconds:g} s")
        except httpx.TimeoutException:
            raise Unreachable(f"{host} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"{host} broke off: {exc.__class__.__name__}") from None
        finally:
            response.close()
        return Fetched(response.status_code, response.headers, bytes(body))

    def close(self) -> None:
        self.http.close()


def contained_file(name: str, root: Path) -> Path:
    """The file ``name`` names inside ``root``: a relative path that stays inside once resolved
    (symbolic links followed); absolute paths, ``~``, ``file:`` URLs and escapes are refused."""
    if not name or "\x00" in name or name.startswith(("/", "\\", "~")) or ":" in name:
        raise Refused(f"{name[:200]!r} is not a path relative to {root}")
    base = root.resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base):
        raise Refused(f"{name[:200]!r} leads outside {root}")
    if not path.is_file():
        raise Unreachable(f"no file {name[:200]!r} in {root}")
    return path


# What a stored file may be, told by its first bytes: images, audio, video and documents.
# Markup (HTML, SVG, XML) and scripts are refused: served from our origin they would be pages.
@dataclass(frozen=True)
class MediaType:
    name: str
    extension: str
    matches: Callable[[bytes], bool]


def _ftyp(*brands: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[4:8] == b"ftyp" and head[8:12] in brands


MEDIA_TYPES: Sequence[MediaType] = (
    MediaType("image/jpeg", ".jpg", lambda h: h.startswith(b"\xff\xd8\xff")),
    MediaType("image/png", ".png", lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    MediaType("image/gif", ".gif", lambda h: h[:6] in (b"GIF87a", b"GIF89a")),
    MediaType("image/webp", ".webp", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    MediaType("image/bmp", ".bmp", lambda h: h[:2] == b"BM" and len(h) >= 26),
    MediaType("image/tiff", ".tiff", lambda h: h[:4] in (b"II*\x00", b"MM\x00*")),
    MediaType("image/avif", ".avif", _ftyp(b"avif", b"avis")),
    MediaType("image/heic", ".heic", _ftyp(b"heic", b"heix", b"mif1")),
    MediaType("audio/wav", ".wav", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WAVE"),
    MediaType("audio/flac", ".flac", lambda h: h.startswith(b"fLaC")),
    MediaType("audio/ogg", ".ogg", lambda h: h.startswith(b"OggS")),
    MediaType(
        "audio/mpeg",
        ".mp3",
        lambda h: h.startswith(b"ID3") or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0),
    ),
    MediaType("audio/mp4", ".m4a", _ftyp(b"M4A ", b"M4B ")),
    MediaType("video/mp4", ".mp4", _ftyp(b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"dash")),
    MediaType("video/quicktime", ".mov", _ftyp(b"qt  ")),
    MediaType("video/webm", ".webm", lambda h: h.startswith(b"\x1a\x45\xdf\xa3")),
    MediaType("application/pdf", ".pdf", lambda h: h.startswith(b"%PDF-")),
)
MEDIA_BY_EXTENSION = {media.extension: media for media in MEDIA_TYPES}


def sniff_media(content: bytes) -> MediaType:
    """The media type ``content`` is by its first bytes; refused when it is none we store."""
    head = content[:64]
    for media in MEDIA_TYPES:
        if media.matches(head):
            return media
    raise Invalid(
        "only images, audio, video and PDF documents are stored; this file is none of them "
        "by its content"
    )


def outside_client(
    settings: Settings, *, timeout_seconds: float | None = None, purpose: str = "fetch"
) -> OutsideClient:
    """A client under the operator's network policy; ``purpose`` names it to the other side."""
    return OutsideClient(
        NetworkPolicy.of(settings.outbound_allowed_networks),
        timeout_seconds=timeout_seconds or settings.outbound_timeout_seconds,
        user_agent=f"Quorum-{purpose}/{quorum.__version__}",
    )
