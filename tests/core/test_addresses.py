"""Where the app may send its own requests: public addresses on web ports, by every
address a name resolves to; networks the operator allows; metadata never."""

from __future__ import annotations

import socket
from ipaddress import ip_address

import pytest

from facilities.core import addresses
from facilities.core.addresses import (
    AddressRefused,
    NotResolved,
    address_allowed,
    checked_addresses,
    port_allowed,
)
from facilities.settings import parse_networks

PUBLIC = "93.184.215.14"


def _numeric(host: str) -> bool:
    """An address however written (127.0.0.1, ::1, 2130706433, 0x7f.1), or this machine:
    answered without asking DNS."""
    if host == "localhost":
        return True
    try:
        ip_address(host)
    except ValueError:
        try:
            socket.inet_aton(host)
        except (OSError, ValueError):
            return False
    return True


@pytest.fixture(autouse=True)
def no_outside_dns(monkeypatch):
    """No name is asked of the outside world's DNS in tests: one not given by `fake_dns`
    has no address (as hooks.example.fi has none offline); addresses are answered as
    the system answers them."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and _numeric(host):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)


def fake_dns(monkeypatch, names: dict[str, list[str]]) -> dict[str, int]:
    """`names` answered from the dict (an answer list is used up one call at a time, its
    last one kept); other hosts as before (see no_outside_dns). Returns how many times
    each name was asked."""
    real = socket.getaddrinfo
    asked: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        asked[host] = asked.get(host, 0) + 1
        answers = names[host]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        family = socket.AF_INET6 if ":" in answer else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # the cloud's metadata service
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.10",
        "127.0.0.1",
        "127.0.0.2",
        "0.0.0.0",
        "100.64.0.1",  # shared address space (CGNAT)
        "100.100.100.200",  # Alibaba's metadata
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "198.18.0.1",  # benchmarking
        "192.0.2.10",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fec0::1",  # site-local
        "ff02::1",  # multicast
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:5::",  # 6to4 of 10.0.0.5
    ],
)
def test_private_local_reserved_and_metadata_addresses_are_refused(address):
    assert not address_allowed(ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(ip_address(address))


def test_an_allowed_network_opens_its_own_addresses_only_and_never_metadata():
    allowed = parse_networks("10.20.0.0/24, 127.0.0.1/32,169.254.0.0/16")
    assert address_allowed(ip_address("10.20.0.7"), allowed)
    assert address_allowed(ip_address("127.0.0.1"), allowed)
    assert not address_allowed(ip_address("10.20.1.7"), allowed)
    assert not address_allowed(ip_address("127.0.0.2"), allowed)
    assert not address_allowed(ip_address("169.254.169.254"), allowed)  # metadata: never
    assert address_allowed(ip_address("169.254.1.1"), allowed)
    assert not address_allowed(ip_address("::ffff:10.20.0.7"), allowed)  # mapped: refused
    with pytest.raises(ValueError):
        parse_networks("10.20.0.0/24,intranet")


@pytest.mark.parametrize(
    ("port", "allowed"),
    [
        (443, True),
        (80, True),
        (8443, True),
        (1024, True),
        (0, False),
        (22, False),
        (25, False),
        (5432, False),
        (3306, False),
        (6379, False),
        (11211, False),
        (27017, False),
    ],
)
def test_only_web_ports(port, allowed):
    assert port_allowed(port) is allowed


def test_a_name_is_judged_by_every_address_it_resolves_to(monkeypatch):
    fake_dns(
        monkeypatch,
        {
            "hooks.public.test": [PUBLIC],
            "metadata.cloud.test": ["169.254.169.254"],
            "inside.test": ["10.1.2.3"],
        },
    )
    assert checked_addresses("hooks.public.test", 443) == [ip_address(PUBLIC)]
    for host in ("metadata.cloud.test", "inside.test", "localhost", "x.localhost", "LOCALHOST."):
        with pytest.raises(AddressRefused):
            checked_addresses(host, 443)
    # numbers written otherwise are what they resolve to
    for host in ("2130706433", "0x7f.1", "127.1", "0"):
        with pytest.raises(AddressRefused):
            checked_addresses(host, 443)
    with pytest.raises(AddressRefused, match="port 5432"):
        checked_addresses("hooks.public.test", 5432)


def test_one_private_address_among_public_ones_refuses_the_name(monkeypatch):
    real = socket.getaddrinfo

    def both(host, port, *args, **kwargs):
        if host != "mixed.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", both)
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.1"):
        checked_addresses("mixed.test", 443)


@pytest.mark.parametrize("host", ["hooks.example.fi", "a" * 300, "bad\x00name", "..", ""])
def test_a_name_without_an_address_is_not_resolved(host):
    with pytest.raises(NotResolved):
        checked_addresses(host, 443)


def test_an_invalid_name_is_never_asked_of_dns(monkeypatch):
    asked = fake_dns(monkeypatch, {"uutiset.digipolis.invalid": [PUBLIC]})
    with pytest.raises(NotResolved):
        checked_addresses("uutiset.digipolis.invalid", 443)
    assert asked == {}
