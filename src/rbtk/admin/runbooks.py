"""Runbook URLs, one per paging rule: the one write path.

A rule's runbook is added to the links of every incident it opens on PagerDuty ("Runbook:
pool_offline"), so whoever is paged has it one tap away. Fan-out reads them from memory
(`rbtk.routing.snapshot`), never per event; each write is audited. Errors (under
`rbtk.runtime.errors`):

    Invalid  ── InvalidRunbook — not a paging rule, or not an http(s) URL of at most 2,048
                characters
    NotFound ── NoRunbook — unsetting a rule that has none
"""

import re
from datetime import datetime

from sqlalchemy import Connection, delete, insert, update

from rbtk.admin import audit
from rbtk.policy.rules import Rule
from rbtk.routing.runbooks import urls_by_rule
from rbtk.runtime.errors import Invalid, NotFound
from rbtk.store.tables import runbooks

MAX_URL = 2048  # PagerDuty's limit on a link's href
# http(s), a host (its first character not /, ? or #), then printable ASCII only: what
# PagerDuty shows as a link. The API's document states the same pattern.
URL_PATTERN = r'^https?://[!-"$-.0->@-~][!-~]*$'
_URL = re.compile(URL_PATTERN)


class InvalidRunbook(Invalid):
    pass


class NoRunbook(NotFound):
    def __init__(self, rule: Rule) -> None:
        super().__init__(f"rule {rule.value!r} has no runbook")
        self.rule = rule


def validate_rule(name: str) -> Rule:
    if name in Rule.__members__.values():
        return Rule(name)
    rules = ", ".join(r.value for r in Rule)
    raise InvalidRunbook(f"rule: {name!r} is not a paging rule; use one of {rules}", field="rule")


def validate_url(url: str) -> str:
    """An absolute http or https URL PagerDuty will show as a link."""
    url = url.strip()
    if not url:
        raise InvalidRunbook(
            "url: must not be empty; give the runbook's https:// address", field="url"
        )
    if len(url) > MAX_URL:
        raise InvalidRunbook(
            f"url: must be at most {MAX_URL:,} characters, got {len(url):,}", field="url"
        )
    if _URL.fullmatch(url):
        return url
    if re.match(r"https?://[^/?#]", url) and any(char.isspace() for char in url):
        raise InvalidRunbook("url: must not contain spaces; encode them as %20", field="url")
    if re.match(r"https?://[^/?#]", url):
        raise InvalidRunbook(
            "url: must be printable ASCII; percent-encode other characters (é as %C3%A9)",
            field="url",
        )
    raise InvalidRunbook(
        f"url: {url!r} is not an http(s) address; give the full address, "
        "e.g. https://wiki.example.com/runbooks/pool-offline",
        field="url",
    )


def set_url(connection: Connection, *, rule: str, url: str, by: str, now: datetime) -> str:
    """Make `url` the rule's runbook; answer it as stored."""
    which = validate_rule(rule)
    url = validate_url(url)
    before = get_all(connection).get(which)
    if before is None:
        connection.execute(insert(runbooks).values(rule=which.value, url=url, updated_at=now))
    elif before != url:
        connection.execute(
            update(runbooks).where(runbooks.c.rule == which.value).values(url=url, updated_at=now)
        )
    audit.record(
        connection,
        by=by,
        action="runbook.set",
        target=which.value,
        before=None if before is None else {"url": before},
        after={"url": url},
        at=now,
    )
    return url


def unset(connection: Connection, *, rule: str, by: str, now: datetime) -> None:
    """Remove the rule's runbook: its incidents are paged without one from now on."""
    which = validate_rule(rule)
    before = get_all(connection).get(which)
    if before is None:
        raise NoRunbook(which)
    connection.execute(delete(runbooks).where(runbooks.c.rule == which.value))
    audit.record(
        connection,
        by=by,
        action="runbook.unset",
        target=which.value,
        before={"url": before},
        after=None,
        at=now,
    )


def get_all(connection: Connection) -> dict[Rule, str]:
    """Each rule's runbook URL, for the rules that have one."""
    return urls_by_rule(connection)
