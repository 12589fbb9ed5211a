import pytest

from masthead.access.client_ip import client_ip, normalise_ip, trusted_address
from masthead.access.networks import client_network, network_of

PEER = "10.0.0.5"  # the nearest proxy, or the client itself with no proxies


CASES = [
    # No proxies: the peer is the client, whatever the header says.
    ("203.0.113.7", None, 0, "203.0.113.7"),
    ("203.0.113.7", "66.249.66.1", 0, "203.0.113.7"),
    ("2001:DB8:0:0::7", "66.249.66.1", 0, "2001:db8::7"),
    ("not-an-ip", None, 0, None),
    ("", None, 0, None),
    # One proxy: it appended the client, the right-most entry.
    (PEER, "203.0.113.7", 1, "203.0.113.7"),
    (PEER, " 203.0.113.7 ", 1, "203.0.113.7"),
    (PEER, "66.249.66.1, 203.0.113.7", 1, "203.0.113.7"),  # spoofed left-most entry
    (PEER, "66.249.66.1,66.249.66.2, 203.0.113.7", 1, "203.0.113.7"),
    (PEER, "2001:db8:0:0:0:0:0:7", 1, "2001:db8::7"),
    (PEER, "::ffff:66.249.66.1", 1, "66.249.66.1"),  # dual-stack spelling of IPv4
    (PEER, "2001:db8:1:2:3:4:5:6", 1, "2001:db8:1:2:3:4:5:6"),
    # Two proxies (CDN then nginx): the client is second from the right.
    (PEER, "203.0.113.7, 198.51.100.2", 2, "203.0.113.7"),
    (PEER, "66.249.66.1, 203.0.113.7, 198.51.100.2", 2, "203.0.113.7"),
    (PEER, "garbage, 203.0.113.7, 198.51.100.2", 2, "203.0.113.7"),
    # Unknown: too few entries, nothing at all, or garbage where the client should be.
    (PEER, "198.51.100.2", 2, None),
    (PEER, None, 1, None),
    (PEER, "", 1, None),
    (PEER, "   ", 1, None),
    (PEER, "unknown", 1, None),
    (PEER, "203.0.113.7:443", 1, None),
    (PEER, "[2001:db8::7]", 1, None),
    (PEER, "203.0.113.7, ", 1, None),
    (PEER, "203.0.113.999, 198.51.100.2", 2, None),
]


@pytest.mark.parametrize(("remote_addr", "forwarded_for", "trusted_hops", "expected"), CASES)
def test_client_ip_comes_only_from_trusted_hops(remote_addr, forwarded_for, trusted_hops, expected):
    assert client_ip(remote_addr, forwarded_for, trusted_hops) == expected


@pytest.mark.parametrize(("remote_addr", "forwarded_for", "trusted_hops", "expected"), CASES)
def test_the_network_read_from_the_parsed_address_is_the_one_its_spelling_gives(
    remote_addr, forwarded_for, trusted_hops, expected
):
    # given the client's address as the reader context parses it once
    address = trusted_address(remote_addr, forwarded_for, trusted_hops)
    # then its network is the one the meter's bounds counted from the address's spelling
    assert network_of(address) == client_network(expected)


def test_a_forged_header_changes_nothing_without_trusted_proxies():
    honest = client_ip("203.0.113.7", None, 0)
    forged = client_ip("203.0.113.7", "66.249.66.1, 66.249.66.2", 0)
    assert honest == forged == "203.0.113.7"


def test_a_negative_hop_count_is_a_configuration_error():
    with pytest.raises(ValueError, match="trusted_hops"):
        client_ip(PEER, "203.0.113.7", -1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("66.249.66.1", "66.249.66.1"),
        ("2001:4860:4801:0010:0000:0000:0000:0001", "2001:4860:4801:10::1"),
        ("::ffff:66.249.66.1", "66.249.66.1"),
        ("", None),
        (None, None),
        ("googlebot.com", None),
    ],
)
def test_normalise_ip_gives_one_spelling_per_address(value, expected):
    assert normalise_ip(value) == expected
