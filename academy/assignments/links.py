"""Links handed in (a TikTok LIVE replay, a shop page): https to a public host only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask_babel import gettext as _

from academy.core.errors import ServiceError

MAX_LENGTH = 2000
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "local", "internal", "lan", "home.arpa")


def check_link(raw: str) -> str:
    """The link as it will be stored, or a ServiceError that says what is wrong with it."""
    link = raw.strip()
    if len(link) > MAX_LENGTH:
        raise ServiceError(_("A link may be at most %(max)s characters.", max=MAX_LENGTH), "links")
    try:
        parts = urlsplit(link)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ServiceError(_("%(link)s is not a web address.", link=link), "links") from None
    if parts.scheme.lower() != "https":
        raise ServiceError(
            _(
                "%(link)s must start with https:// (copy it from the app's Share button).",
                link=link,
            ),
            "links",
        )
    if not host or any(c.isspace() for c in link):
        raise ServiceError(_("%(link)s is not a web address.", link=link), "links")
    if parts.username or parts.password:
        raise ServiceError(
            _("%(link)s must not carry a user name or password.", link=link), "links"
        )
    if _is_private(host):
        raise ServiceError(
            _("%(link)s points to a private or local address; give a public page.", link=link),
            "links",
        )
    return link


def _is_private(host: str) -> bool:
    host = host.rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # A name: single-label names and local suffixes never reach the public internet.
        return "." not in host or any(
            host == name or host.endswith("." + name) for name in _LOCAL_NAMES
        )
    return not address.is_global


def host_of(link: str) -> str:
    return (urlsplit(link).hostname or "").removeprefix("www.")
