"""The configuration stored now, as a document: what `rbtk admin export` prints.

Read through `rbtk.admin`'s reads; windows are those not over yet (scheduled or active).
Secrets are exported as references, never in the clear: a connector's key as `key_env:
PD_PRODUCTION_KEY` (its name upper-cased, '-' as '_', then `_KEY`), its REST API key, when it
has one, as `rest_key_env: PD_PRODUCTION_REST_KEY`, a chat channel's secret field as
`webhook_url_env: OPS_SLACK_WEBHOOK_URL`. Beside each, a comment shows what rbtk
holds now, masked, with the start of its SHA-256 (`printf %s "$KEY" | sha256sum` tells
whether the value at hand is that one): the operator knows which value to export under
that name before applying the file elsewhere.

The YAML is the same for the same configuration (no date in it, lists in a stable order), so
exports can be committed and compared.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import Connection

from rbtk.admin import (
    channel_destinations,
    chat_channels,
    connector_settings,
    connectors,
    routing,
    runbooks,
    suppressions,
)
from rbtk.channels.registry import CHAT
from rbtk.config_file.document import VERSION, env_name
from rbtk.config_file.lines import position
from rbtk.config_file.problems import Loc
from rbtk.routing import chat, pagerduty
from rbtk.routing.ordered_rules import OrderedRule
from rbtk.runtime.secrets import Vault
from rbtk.runtime.timefmt import format_rfc3339

FINGERPRINT = 12  # hex digits of the SHA-256 shown: enough to tell two keys apart


@dataclass(frozen=True)
class Held:
    """What rbtk holds for the reference at `loc`: masked, and the start of its SHA-256."""

    loc: Loc
    masked: str
    fingerprint: str

    def as_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "masked": self.masked, "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Exported:
    document: dict[str, Any]  # as JSON: what `rbtk admin apply` takes back
    secrets: list[Held]
    defaults: list[str]  # the connectors that get what no routing rule matches

    def as_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "secrets": [held.as_json() for held in self.secrets],
            "defaults": self.defaults,
        }

    @classmethod
    def from_json(cls, answer: Mapping[str, Any]) -> "Exported":
        held = [Held(tuple(s["loc"]), s["masked"], s["fingerprint"]) for s in answer["secrets"]]
        return cls(dict(answer["document"]), held, list(answer["defaults"]))


def export(connection: Connection, *, vault: Vault, now: datetime) -> Exported:
    held: list[Held] = []
    connector_docs = []
    for at, view in enumerate(connectors.list_all(connection)):
        key_env = env_name(view.name, "key")
        held.append(
            Held(
                ("pagerduty", "connectors", at, "key_env"),
                view.key_masked,
                view.key_fingerprint[:FINGERPRINT],
            )
        )
        entry: dict[str, Any] = {"name": view.name, "key_env": key_env}
        rest_key = connectors.stored_rest_key(connection, vault=vault, name=view.name)
        if rest_key is not None:
            entry["rest_key_env"] = env_name(view.name, "rest_key")
            loc: Loc = ("pagerduty", "connectors", at, "rest_key_env")
            held.append(Held(loc, rest_key.masked, rest_key.fingerprint[:FINGERPRINT]))
        entry |= connector_settings.of(view).model_dump(mode="json")
        entry["rules"] = {rule.value: on for rule, on in view.rules.items()}
        connector_docs.append(entry)
    channel_docs = []
    for at, channel_view in enumerate(chat_channels.list_channels(connection)):
        entry = {"name": channel_view.name, "kind": channel_view.kind}
        for field in CHAT[channel_view.kind].fields:
            if not field.secret:
                entry[field.name] = channel_view.config.get(field.name)
                continue
            reference = f"{field.name}_env"
            entry[reference] = env_name(channel_view.name, field.name)
            secret = channel_destinations.stored_secret(
                connection, vault=vault, name=channel_view.name
            )
            if secret is not None:
                loc = ("chat", "channels", at, reference)
                held.append(Held(loc, secret.masked, secret.fingerprint[:FINGERPRINT]))
        entry["health"] = channel_view.health
        channel_docs.append(entry)
    windows = [
        {
            "connector": window.connector,
            "starts_at": format_rfc3339(window.starts_at),
            "ends_at": format_rfc3339(window.ends_at),
            "reason": window.reason,
        }
        for window in suppressions.list_windows(connection, now=now)
    ]
    document = {
        "version": VERSION,
        "pagerduty": {
            "connectors": connector_docs,
            "routing": _rules(pagerduty.load_rules(connection)),
            "runbooks": {
                rule.value: url for rule, url in sorted(runbooks.get_all(connection).items())
            },
        },
        "chat": {"channels": channel_docs, "rules": _rules(chat.load_rules(connection))},
        "suppressions": windows,
    }
    return Exported(document, held, routing.default_names(connection))


def _rules(rules: Sequence[OrderedRule]) -> list[dict[str, Any]]:
    """In order, without positions (the order is the position); a rule leaves out what
    matches everything."""
    listed = []
    for rule in rules:
        entry: dict[str, Any] = {}
        if rule.project is not None:
            entry["project"] = rule.project
        if rule.event_type is not None:
            entry["event_type"] = rule.event_type
        entry[rule.targets_field] = list(rule.targets)
        listed.append(entry)
    return listed


def _printable(text: str) -> str:
    """`text` for a comment: a secret's last characters may be control characters, which no
    YAML reader takes (not even in a comment), so each is written as its escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def render(exported: Exported) -> str:
    """The document as commented YAML: a header saying how to apply it, and what rbtk holds
    beside each secret's reference."""
    text = yaml.safe_dump(
        exported.document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines = text.splitlines()
    for held in exported.secrets:
        at = position(root, held.loc).line - 1
        lines[at] += f"  # rbtk holds {_printable(held.masked)} (sha256 {held.fingerprint}…)"
    spaced = []
    for number, line in enumerate(lines):
        if number and line[:1].isalpha():
            spaced.append("")  # a blank line before each section
        spaced.append(line)
    defaults = ", ".join(exported.defaults) or "none (they page nobody)"
    header = [
        "# rbtk configuration. Apply it with: rbtk admin apply -f FILE (add --dry-run to see",
        "# the plan first). It is the whole configuration: what it leaves out is removed.",
        "# Secrets are never written here: set each *_env variable (or name a file with",
        "# *_file) before applying; the comment beside each says which value rbtk holds now.",
        f"# Events no routing rule matches go to the connectors with is_default: {defaults}.",
        "# Its JSON Schema: rbtk admin schema.",
    ]
    return "\n".join([*header, *spaced]) + "\n"
