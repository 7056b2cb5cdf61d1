"""Which addresses a webhook may reach: public ones, never internal or metadata services."""

from ipaddress import ip_address

import pytest

from rbtk.runtime.addresses import describe, parse, refusal


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "64:ff9b::808:808"]
)
def test_a_public_address_may_be_reached(address: str) -> None:
    assert refusal(ip_address(address)) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("169.254.170.2", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("168.63.129.16", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "not a public address"),
        # IPv4 wrapped in IPv6 reaches the IPv4 address: it is judged as that.
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:7f00:1::", "a loopback address"),
        ("64:ff9b::a00:1", "a private address"),
    ],
)
def test_an_internal_address_is_refused_with_what_it_is(address: str, kind: str) -> None:
    assert refusal(ip_address(address)) == kind


def test_a_literal_is_described_by_itself_and_a_name_by_what_it_resolves_to() -> None:
    metadata = ip_address("169.254.169.254")
    assert describe("169.254.169.254", metadata, "a cloud metadata address") == (
        "169.254.169.254 is a cloud metadata address"
    )
    assert describe("db.internal", ip_address("10.0.0.5"), "a private address") == (
        "db.internal resolves to 10.0.0.5, a private address"
    )


def test_parse_reads_ip_literals_only() -> None:
    assert parse("10.0.0.1") == ip_address("10.0.0.1")
    assert parse("fe80::1%eth0") == ip_address("fe80::1")
    assert parse("hooks.slack.com") is None
