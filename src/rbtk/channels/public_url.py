"""Destination URLs that a channel posts to: well-formed, and public unless allowed otherwise.

Unless `allow_private`, the host is resolved and every address it resolves to must be
public (not loopback, private, link-local, metadata...): a webhook must not become a way
into the internal network. The check is made again at every send (`rbtk.delivery.http`),
since a name can resolve elsewhere later. A name that does not resolve is refused: it cannot
be checked, and every message to it would fail; the message says so now rather than letting
the first message fail later. Messages never repeat the URL: for Slack it is a secret.
"""

from urllib.parse import urlsplit

from rbtk.channels.base import InvalidDestination
from rbtk.runtime import addresses

MAX_URL = 2048
# An http(s) URL with a host and no spaces (nor NUL, which no database stores), as
# `checked_url` first checks it; what its host may be only `checked_url` knows.
URL_SCHEMA = {
    "type": "string",
    "maxLength": MAX_URL,
    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\x00/?#]+([/?#][^\\s\\x00]*)?$",
}


def checked_url(
    url: str, *, field: str, expected: str, allow_private: bool, http_to_loopback: bool = False
) -> str:
    """The URL, once it is an http(s) URL of a host it may reach.

    Plain http is accepted only with `allow_private`, and with `http_to_loopback` only when
    the host is a loopback address as well: anywhere else it would travel in the clear."""
    if not url:
        raise InvalidDestination(f"{field}: is empty; {expected}", field=field)
    if url.strip() != url or any(c.isspace() for c in url):
        raise InvalidDestination(
            f"{field}: has spaces or line breaks in it; {expected}", field=field
        )
    if len(url) > MAX_URL:
        raise InvalidDestination(f"{field}: is over {MAX_URL} characters; {expected}", field=field)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidDestination(f"{field}: is not a valid URL; {expected}", field=field) from None
    if parts.scheme not in ("http", "https"):
        start = (
            f"starts with {parts.scheme + ':'!r}, not" if parts.scheme else "does not start with"
        )
        raise InvalidDestination(f"{field}: {start} https://; {expected}", field=field)
    if not host:
        raise InvalidDestination(f"{field}: has no host; {expected}", field=field)
    in_clear = not allow_private or (http_to_loopback and not _is_loopback(host))
    if parts.scheme == "http" and in_clear:
        where = "to a loopback address, " if http_to_loopback else ""
        raise InvalidDestination(
            f"{field}: starts with 'http:', not https://: webhooks are sent only over "
            f"https (plain http only {where}with RBTK_ALLOW_PRIVATE_WEBHOOKS=1); {expected}",
            field=field,
        )
    if not allow_private:
        _check_public(host, port, field)
    return url


def _is_loopback(host: str) -> bool:
    address = addresses.parse(host)
    return host.lower() == "localhost" if address is None else address.is_loopback


def _check_public(host: str, port: int, field: str) -> None:
    literal = addresses.parse(host)
    if literal is not None:
        found = [literal]
    else:
        try:
            found = addresses.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InvalidDestination(
                f"{field}: the host {host} does not resolve ({reason}): check the host "
                "name, or try again once DNS answers",
                field=field,
            ) from None
    for address in found:
        kind = addresses.refusal(address)
        if kind is not None:
            raise InvalidDestination(
                f"{field}: {addresses.describe(host, address, kind)}; "
                f"webhooks may only reach public addresses ({addresses.ALLOW_HINT})",
                field=field,
            )
