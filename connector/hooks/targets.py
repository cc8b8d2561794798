"""Where REST hooks may deliver: SSRF checks on target URLs.

A subscriber chooses the URL the connector will POST to, so without checks it could make the
connector call its own loopback services, the cloud metadata endpoint or the private network.
A target must be http(s); its host, written as a name or as an IP in any spelling, must resolve
only to public addresses; the delivery connects to the address that was checked (no second DNS
lookup an attacker could answer differently), and redirects are never followed.

``allow_private`` (``HOOKS_ALLOW_PRIVATE_TARGETS``) admits loopback, private, CGNAT and
unique-local addresses for local testing; link-local (169.254.0.0/16 including the metadata
address, fe80::/10), unspecified, multicast and reserved addresses are refused regardless.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class TargetRefused(ValueError):
    """The URL may not be used as a hook target; the message says why, for the subscriber."""


class TargetUnresolvable(TargetRefused):
    """The host name did not resolve: refused at subscribe time, retried at delivery time (DNS
    failures are often temporary)."""


@dataclass(frozen=True)
class Target:
    """A checked target: connect to ``address``, present ``host`` (Host header, TLS name)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def check_target(url: str, *, allow_private: bool = False,
                 resolve: Resolver = resolve_host) -> Target:
    """Check ``url`` and resolve it once; raise :class:`TargetRefused` saying what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise TargetRefused("Give a target URL.")
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"The target URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused("The target URL is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("Only http:// and https:// target URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The target URL must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise TargetRefused("The target URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    literal = _literal_address(host)
    if literal is not None:
        addresses = [literal]
    elif host == "localhost" or host.endswith(".localhost"):
        addresses = [ipaddress.ip_address("127.0.0.1")]
    else:
        try:
            addresses = [ipaddress.ip_address(found) for found in resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            raise TargetUnresolvable(f"The target host {host} could not be resolved.") from None
        if not addresses:
            raise TargetUnresolvable(f"The target host {host} could not be resolved.")
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem:
            shown = host if literal is not None else f"{host} resolves to {address}, which"
            raise TargetRefused(f"Refused target: {shown} is {problem}.")
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, path=path,
                  address=str(addresses[0]))


def _literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP stands for, in any spelling the OS would accept
    (``127.1``, ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``); None for a real name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    labels = host.split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels if label) and any(labels):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise TargetRefused(f"The target host {host} is not a valid address.") from None
    return None


def address_problem(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why the connector may not connect to ``address`` (a short phrase), or None."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        problem = address_problem(embedded, allow_private=allow_private)
        return f"an IPv4 address in disguise ({embedded}: {problem})" if problem else None
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_unspecified or (address.version == 4 and address in _THIS_NETWORK):
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if address.is_reserved:
        return "a reserved address"
    if address.version == 4 and address in ipaddress.ip_network("100.64.0.0/10"):
        return None if allow_private else "a shared (CGNAT) address"
    if address.version == 6 and address in ipaddress.ip_network("fc00::/7"):
        return None if allow_private else "a unique-local address"
    if address.is_private:
        return None if allow_private else "a private address"
    if not address.is_global:
        return "a reserved address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address."""
    if address.version != 6:
        return None
    assert isinstance(address, ipaddress.IPv6Address)
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
