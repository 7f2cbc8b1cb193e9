"""Where the app may send its own HTTP requests (webhook posts): public addresses only.

A host name is checked by every address it resolves to, not by how it is written: a name
of the admin's own (or 2130706433, 0x7f.1, [::ffff:127.0.0.1]) can point anywhere. The
caller connects to an address that was checked, never resolving the name again, so that
a DNS answer changed between the check and the connection (rebinding) cannot slip
through. The operator may allow networks of their own (a receiver on the premises);
cloud metadata addresses stay refused even then.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Instance metadata services hand out cloud credentials: never reachable, whatever is
# allowed (AWS, GCP, Azure, OpenStack; ECS tasks; Alibaba; Oracle; AWS over IPv6).
METADATA_ADDRESSES = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "192.0.0.192",
        "fd00:ec2::254",
    )
)
# Posts go to web servers. Below 1024 only 80 and 443; above, the usual database, cache
# and queue ports: an HTTP body sent to one of them is an attack on it, never a post.
WEB_PORTS = frozenset({80, 443})
SERVICE_PORTS = frozenset({2375, 2376, 2379, 3306, 5432, 5672, 6379, 9200, 9300, 11211, 27017})
LOCAL_NAMES = ("localhost", ".localhost")  # RFC 6761: this machine, whatever DNS says
_NAT64 = ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The host is, or resolves to, an address the app must not reach (or the port is
    not a web server's); the text says which, for the outbox and the log."""


class NotResolved(Exception):
    """The host name has no address (now)."""


def port_allowed(port: int) -> bool:
    return port in WEB_PORTS or (port >= 1024 and port not in SERVICE_PORTS)


def _embedded(address: Address) -> list[Address]:
    """The address and any IPv4 address carried inside an IPv6 one (mapped, 6to4,
    Teredo, NAT64): each of them must be allowed."""
    if isinstance(address, IPv4Address):
        return [address]
    found: list[Address] = [address]
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _public(address: Address) -> bool:
    # is_global leaves out private, loopback, link-local, reserved, documentation and
    # shared (CGNAT, 100.64/10) ranges; multicast counts as global, so it is named too.
    special = (
        address.is_multicast
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_private
        or (isinstance(address, IPv6Address) and address.is_site_local)
    )
    return address.is_global and not special


def address_allowed(address: Address, allowed: Sequence[Network] = ()) -> bool:
    """Whether the app may connect to `address`: public, or in a network the operator
    allowed; a cloud metadata address never."""
    for each in _embedded(address):
        if each in METADATA_ADDRESSES:
            return False
        if not _public(each) and not any(each in network for network in allowed):
            return False
    return True


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an address written as one stands for itself)."""
    name = host.lower().rstrip(".")
    if name == "invalid" or name.endswith(".invalid"):  # RFC 6761: never asked of DNS
        raise NotResolved(host)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # no such name, or not a name at all
        raise NotResolved(host) from None
    # scope ids (fe80::1%eth0) are dropped: the address decides, not the interface
    addresses = [ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]
    if not addresses:
        raise NotResolved(host)
    return list(dict.fromkeys(addresses))


def checked_addresses(host: str, port: int, allowed: Sequence[Network] = ()) -> list[Address]:
    """The addresses of `host`, each one allowed; raises AddressRefused or NotResolved."""
    if not port_allowed(port):
        raise AddressRefused(f"port {port} is not a web server's")
    name = host.lower().rstrip(".")
    if name == LOCAL_NAMES[0] or name.endswith(LOCAL_NAMES[1]):
        raise AddressRefused(f"{host} is this machine")
    addresses = resolve(host, port)
    for address in addresses:
        if not address_allowed(address, allowed):
            raise AddressRefused(f"{host} is {address}, a private, local or reserved address")
    return addresses
