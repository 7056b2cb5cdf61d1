"""How the pages name rules, severities and delivery statuses (as the README names them)."""

from dataclasses import dataclass

from rbtk.admin import connector_settings
from rbtk.policy.rules import DEFAULT_ENABLED, EVENT_TYPE, SEVERITY, Rule
from rbtk.policy.severity import Severity
from rbtk.runtime.errors import AdminError
from rbtk.runtime.settings import Settings
from rbtk.runtime.timefmt import duration


@dataclass(frozen=True)
class RuleLabel:
    rule: Rule
    title: str
    condition: str
    event_type: str
    severity: Severity
    default: bool


def rule_labels(settings: Settings) -> list[RuleLabel]:
    """The paging rules in the documentation's order, with this instance's thresholds."""
    airgapped = duration(settings.airgapped_offline_minutes * 60)
    any_pool = duration(settings.pool_offline_minutes * 60)
    texts = {
        Rule.EVIDENCE_PACK_FAILED: ("Evidence pack failed on a release", "on a release tag"),
        Rule.AIRGAPPED_POOL_OFFLINE: (
            "Air-gapped pool offline",
            f"air-gapped, offline more than {airgapped}",
        ),
        Rule.POOL_OFFLINE: ("Any pool offline", f"offline more than {any_pool}"),
        Rule.POST_RELEASE_REGRESSION: (
            "Post-release regression",
            "failed on the default branch after a release, not a pull request",
        ),
        Rule.STANDARD_AMENDMENT: ("Pinned standard amended", "the standard is pinned"),
    }
    return [
        RuleLabel(
            rule=rule,
            title=title,
            condition=condition,
            event_type=EVENT_TYPE[rule],
            severity=SEVERITY[rule],
            default=rule in DEFAULT_ENABLED,
        )
        for rule, (title, condition) in texts.items()
    ]


def rule_title(rule: Rule) -> str:
    return _TITLES[rule]


_TITLES = {
    Rule.EVIDENCE_PACK_FAILED: "Evidence pack failed",
    Rule.AIRGAPPED_POOL_OFFLINE: "Air-gapped pool offline",
    Rule.POOL_OFFLINE: "Any pool offline",
    Rule.POST_RELEASE_REGRESSION: "Post-release regression",
    Rule.STANDARD_AMENDMENT: "Pinned standard amended",
}

# Words for delivery statuses: the colour is only ever a second cue.
STATUS_WORDS = {
    "queued": "Queued",
    "retrying": "Retrying",
    "sent": "Sent",
    "failed": "Failed",
    "suppressed": "Suppressed",
}

SEVERITIES_HIGH_FIRST = [Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.INFO]

# How the pages name a field an error is about (`AdminError.field`), as its label does.
FIELD_LABELS = {
    **connector_settings.labels(),
    "name": "Name",
    "webhook_url": "Webhook URL",
    "url": "URL",
    "signing_secret": "Signing secret",
    "recipients": "Recipients",
    "rest_key": "REST API key",
    "kind": "Kind",
    "starts_at": "From",
    "ends_at": "Until",
    "reason": "Reason",
    "since": "Since",
}


def say(message: object) -> str:
    """A service message as a sentence on a page: capitalised, with a stop; an error that
    names its field and starts with it ("storm_window_s: must be…") names it by its label."""
    text = str(message)
    field = message.field if isinstance(message, AdminError) else None
    if field in FIELD_LABELS and text.startswith(f"{field}: "):
        text = FIELD_LABELS[field] + text[len(field) :]
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
