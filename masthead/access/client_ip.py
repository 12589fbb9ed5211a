"""Which address a request really came from.

X-Forwarded-For is written by whoever sent the request, so only the entries our own proxies
appended can be believed. Each trusted proxy appends the address it saw, which puts the client
exactly `trusted_hops` entries from the right; anything further left is the client's own
claim. Getting this wrong lets anyone pose as Googlebot's address and read past the paywall,
so an answer we cannot vouch for is None ("unknown"), never a guess.
"""

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(remote_addr: str, forwarded_for: str | None, trusted_hops: int) -> str | None:
    """The client's normalised address (trusted_address, spelled), or None when it cannot be
    trusted."""
    address = trusted_address(remote_addr, forwarded_for, trusted_hops)
    return None if address is None else str(address)


def trusted_address(
    remote_addr: str, forwarded_for: str | None, trusted_hops: int
) -> Address | None:
    """The client's address, parsed (client_ip's string and the client network are both read
    from it), or None when it cannot be trusted.

    With no trusted hops the peer address is the client and X-Forwarded-For is ignored, so a
    forged header changes nothing. A header shorter than the configured hops means the request
    bypassed a proxy (or the setting is wrong): unknown rather than whatever the client wrote.
    """
    if trusted_hops < 0:
        raise ValueError(f"trusted_hops must be 0 or more, not {trusted_hops}")
    if trusted_hops == 0:
        return parse_ip(remote_addr)
    if not forwarded_for:
        return None
    entries = forwarded_for.split(",")
    if len(entries) < trusted_hops:
        return None
    return parse_ip(entries[-trusted_hops])


def normalise_ip(value: str | None) -> str | None:
    """One spelling per address, so cache keys and DNS comparisons agree.

    An IPv4 address seen through a dual-stack socket ("::ffff:66.249.66.1") is unwrapped to
    plain IPv4, because that is what forward DNS returns for it.
    """
    address = parse_ip(value)
    return None if address is None else str(address)


def parse_ip(value: str | None) -> Address | None:
    """The address normalise_ip spells, or None."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address
