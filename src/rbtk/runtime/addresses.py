"""Which network addresses a webhook may reach: public ones only.

A webhook URL is typed in by an admin, so without this it could point rbtk's delivery at
the database, a cloud metadata service or anything else on the internal network. The same
rule is applied when a webhook is added (`chat_channels.validate_webhook`) and again when
each message is sent (`http.new_session`), because a name can resolve differently later.
`RBTK_ALLOW_PRIVATE_WEBHOOKS=1` lifts it, for local receivers in tests and demos.
"""

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

Address = IPv4Address | IPv6Address

ALLOW_HINT = "set RBTK_ALLOW_PRIVATE_WEBHOOKS=1 to allow internal addresses"

# Instance metadata and host services of the large clouds: they hand out credentials.
# Most are link-local or private anyway; Azure's wire server is not, nor is Oracle's.
METADATA = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
        "192.0.0.192",  # Oracle Cloud (classic)
    )
)
_NAT64 = ip_network("64:ff9b::/96")

_KINDS = (
    ("is_unspecified", "an unspecified address"),
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_reserved", "a reserved address"),
    ("is_private", "a private address"),
)


def refusal(address: Address) -> str | None:
    """Why a webhook may not connect to `address` ("a loopback address"), or None."""
    address = _embedded(address)
    if address in METADATA:
        return "a cloud metadata address"
    for test, kind in _KINDS:
        if getattr(address, test):
            return kind
    if not address.is_global:
        return "not a public address"
    return None


def _embedded(address: Address) -> Address:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 address: what is reached."""
    if isinstance(address, IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def parse(text: str) -> Address | None:
    """An IP address literal (IPv6 scope ids dropped), or None for a host name."""
    try:
        return ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to; socket.gaierror when it does not."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for info in infos:
        address = parse(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


def describe(host: str, address: Address, kind: str) -> str:
    """`169.254.169.254 is a cloud metadata address`, or, for a name,
    `db.internal resolves to 10.0.0.5, a private address`."""
    if parse(host) == address:
        return f"{host} is {kind}"
    return f"{host} resolves to {address}, {kind}"
