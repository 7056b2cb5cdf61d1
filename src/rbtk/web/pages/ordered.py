"""Editing an ordered rule list from a form: PagerDuty routing and Slack/email rules alike.

A page changes one rule (add, edit, move, remove) but the services save only whole lists
(`routing.replace_rules`, `notify_config.replace_rules`), validated first; these helpers read
the form and build the list to save with the services' own list operations.
"""

from dataclasses import dataclass, replace
from typing import Any

from starlette.datastructures import FormData

from rbtk.routing import R, inserted, moved, renumbered, without
from rbtk.web.render import form_list, form_text


@dataclass(frozen=True)
class RuleFields:
    """What the rule form says: a blank project or event type matches every one."""

    project: str | None
    event_type: str | None
    names: tuple[str, ...]
    position: int | None  # where to add it; None: at the end

    @classmethod
    def read(cls, form: FormData, names_field: str) -> "RuleFields":
        position = form_text(form, "position").strip()
        return cls(
            project=form_text(form, "project").strip() or None,
            event_type=form_text(form, "event_type").strip() or None,
            names=tuple(form_list(form, names_field)),
            position=int(position) if position.isdigit() else None,
        )

    def shown(self) -> dict[str, Any]:
        """For the form shown again after an error."""
        return {
            "project": self.project or "",
            "event_type": self.event_type or "",
            "names": list(self.names),
            "position": self.position,
        }


def added(rules: list[R], rule: R, position: int | None) -> list[R]:
    return inserted(rules, rule, position=position)


def edited(rules: list[R], position: int, **changes: Any) -> list[R]:
    ordered = renumbered(rules)
    if not 1 <= position <= len(ordered):
        # `without` raises the services' own NoSuchPosition, with its message.
        without(ordered, position)
    ordered[position - 1] = replace(ordered[position - 1], **changes)
    return ordered


def shifted(rules: list[R], position: int, to: int) -> list[R]:
    return moved(rules, position, to)


def removed(rules: list[R], position: int) -> list[R]:
    return without(rules, position)
