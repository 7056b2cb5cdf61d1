"""Ordered rule lists: the first rule matching an event's project and event type wins.

PagerDuty routing rules name connectors (`rbtk.routing.pagerduty`), Slack and email rules name
channels (`rbtk.routing.chat`); both lists are kept here the same way: written only whole
(`store`), validated first (`rule_errors`), edited one position at a time (`inserted`,
`replaced`, `without`, `moved`) and then saved whole. Errors, each saying what to do:

    InvalidList (also a ValueError) — the list is wrong; `errors` names each problem (each
                                      service raises its own subclass)
    NoSuchPosition (also a LookupError) — an edit named a position not in the list
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from difflib import get_close_matches
from fnmatch import fnmatchcase
from typing import Any, ClassVar, Self, TypeVar

from sqlalchemy import Connection, Table, delete, insert, select, update

from rbtk.runtime.errors import NotFound
from rbtk.store.db import is_postgres

MAX_PATTERN = 255


class NoSuchPosition(NotFound):
    pass


@dataclass(frozen=True)
class OrderedRule:
    """A rule: a None project or event type matches every one; `targets` are names.

    Each list subclasses it, setting `targets_field`: what the API, the database and the
    forms call the targets ("connectors", "channels").
    """

    targets_field: ClassVar[str]

    position: int
    project: str | None
    event_type: str | None
    targets: tuple[str, ...]

    def matches(self, project: str, event_type: str) -> bool:
        return _match(self.project, project) and _match(self.event_type, event_type)

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "project": self.project,
            "event_type": self.event_type,
            self.targets_field: list(self.targets),
        }

    def audited(self) -> dict[str, Any]:
        """As the audit log keeps it: its place is its index in the list."""
        return {k: v for k, v in self.as_json().items() if k != "position"}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        return cls(
            raw["position"], raw["project"], raw["event_type"], tuple(raw[cls.targets_field])
        )


R = TypeVar("R", bound=OrderedRule)


def _match(pattern: str | None, value: str) -> bool:
    return pattern is None or fnmatchcase(value, pattern)


def first_match(rules: Sequence[R], project: str, event_type: str) -> R | None:
    """The rule that decides: the first, by position, matching; None when none does."""
    for rule in sorted(rules, key=lambda r: r.position):
        if rule.matches(project, event_type):
            return rule
    return None


# storing the list


def load(connection: Connection, table: Table, kind: type[R]) -> list[R]:
    """The list in order, numbered 1, 2, 3...: the position shown is the position edited."""
    rows = connection.execute(select(table).order_by(table.c.position, table.c.id))
    return _numbered(
        [
            kind(r.position, r.project, r.event_type, tuple(r._mapping[kind.targets_field]))
            for r in rows
        ]
    )


def store(
    connection: Connection, table: Table, rules: Sequence[OrderedRule], *, now: datetime
) -> None:
    """Make `rules` (already validated) the whole list in `table`, in their order and
    numbered 1, 2, 3..., whatever positions they came with: positions never have gaps.

    One writer of a list at a time: two lists replacing each other at once would otherwise
    collide on their positions. (SQLite transactions already take the write lock.)
    """
    if is_postgres(connection):
        connection.exec_driver_sql(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
    connection.execute(delete(table))
    if rules:
        connection.execute(
            insert(table),
            [
                {
                    "position": position,
                    "project": rule.project,
                    "event_type": rule.event_type,
                    rule.targets_field: list(rule.targets),
                    "created_at": now,
                }
                for position, rule in enumerate(sorted(rules, key=lambda r: r.position), 1)
            ],
        )


def renumber(connection: Connection, table: Table) -> None:
    """Close the gaps a deleted rule left: positions become 1, 2, 3... in the same order.

    Ascending, each rule moves to a position no rule holds any more, so the unique index on
    position is never violated half-way.
    """
    rows = connection.execute(select(table.c.id, table.c.position).order_by(table.c.position))
    for position, row in enumerate(rows.all(), start=1):
        if row.position != position:
            connection.execute(update(table).where(table.c.id == row.id).values(position=position))


def rule_errors(
    rules: Sequence[OrderedRule],
    known: set[str],
    *,
    noun: str,
    refuse_catch_all: str | None = None,
    event_types: Collection[str] | None = None,
) -> list[str]:
    """Every problem in the list, whose targets are each a `noun` ("connector") of `known`.

    A rule with neither a project nor an event type matches every event; `refuse_catch_all`,
    when given, refuses one and says what to do instead. `event_types`, when given, are the
    only types a rule may name outright: anything else must be a glob, so a typo such as
    `runner_pool.ofline` is refused instead of saved as a rule that never matches.
    """
    errors: list[str] = []
    counts: dict[int, int] = {}
    for rule in rules:
        counts[rule.position] = counts.get(rule.position, 0) + 1
    for position, count in sorted(counts.items()):
        if count > 1:
            errors.append(f"position {position}: used by {count} rules; positions must be unique")
    for rule in sorted(rules, key=lambda r: r.position):
        at = f"position {rule.position}"
        if rule.position < 1:
            errors.append(f"{at}: positions start at 1")
        project, event_type = rule.project, rule.event_type
        for label, what, pattern in (
            ("project", "project", project),
            ("event_type", "event type", event_type),
        ):
            if pattern is not None and not pattern.strip():
                errors.append(f"{at}: {label} is empty; leave it out to match every {what}")
            elif pattern is not None and len(pattern) > MAX_PATTERN:
                errors.append(f"{at}: {label} is over {MAX_PATTERN} characters")
        if event_types is not None and event_type is not None and event_type.strip():
            problem = unknown_event_type(event_type, event_types)
            if problem is not None:
                errors.append(f"{at}: {problem}")
        if refuse_catch_all is not None and project is None and event_type is None:
            errors.append(f"{at}: matches every event; {refuse_catch_all}")
        if not rule.targets:
            errors.append(f"{at}: names no {noun}; give at least one")
        seen: set[str] = set()
        for name in rule.targets:
            if name in seen:
                errors.append(f"{at}: names {noun} {name!r} twice")
            elif name not in known:
                errors.append(f"{at}: no {noun} named {name!r}")
            seen.add(name)
    return errors


GLOB_CHARACTERS = frozenset("*?[")


def unknown_event_type(pattern: str, event_types: Collection[str]) -> str | None:
    """Why `pattern` cannot be an event type matcher, or None when it can: it is one of
    `event_types` or a glob (`*`, `?` or `[`). The message suggests the closest known type."""
    if pattern in event_types or GLOB_CHARACTERS.intersection(pattern):
        return None
    closest = _closest(pattern, event_types)
    if closest:
        hint = f"did you mean {closest!r}?"
    else:
        hint = "known types are " + ", ".join(sorted(event_types))
    return (
        f"event_type {pattern!r} is not a known event type; {hint} "
        "(a pattern with * ? or [ matches several)"
    )


def unknown_type_notice(event_type: str, event_types: Collection[str]) -> str | None:
    """What to tell whoever sends an event of a type rbtk does not know, or None when it knows
    it. Such an event is still taken (chat rules may match any type), but no paging rule
    pages it: a typo would otherwise page nobody without a word."""
    if event_type in event_types:
        return None
    closest = _closest(event_type, event_types)
    hint = (
        f"did you mean {closest}?" if closest else "known types: " + ", ".join(sorted(event_types))
    )
    return f"unknown event type {event_type}: no rule pages it; {hint}"


def _closest(name: str, event_types: Collection[str]) -> str | None:
    found = get_close_matches(name, event_types, n=1, cutoff=0.6)
    return found[0] if found else None


# editing the list: each edit answers the whole list, numbered 1, 2, 3...


def _renumbered(rules: Sequence[R]) -> list[R]:
    """The rules in their order, numbered 1, 2, 3..."""
    return _numbered(sorted(rules, key=lambda r: r.position))


def inserted(rules: Sequence[R], rule: R, *, position: int | None = None) -> list[R]:
    """The list with `rule` at `position` (the end when None), the rules after it moved down."""
    ordered = _renumbered(rules)
    at = len(ordered) + 1 if position is None else position
    if not 1 <= at <= len(ordered) + 1:
        raise NoSuchPosition(f"position {at}: {_range(len(ordered) + 1, 'a new rule')}")
    ordered.insert(at - 1, rule)
    return _numbered(ordered)


def replaced(rules: Sequence[R], rule: R) -> list[R]:
    """The list with `rule` in place of the rule at its position."""
    ordered = _renumbered(rules)
    _check_at(rule.position, ordered)
    ordered[rule.position - 1] = rule
    return ordered


def without(rules: Sequence[R], position: int) -> list[R]:
    ordered = _renumbered(rules)
    _check_at(position, ordered)
    del ordered[position - 1]
    return _numbered(ordered)


def moved(rules: Sequence[R], position: int, to: int) -> list[R]:
    ordered = _renumbered(rules)
    _check_at(position, ordered)
    if not 1 <= to <= len(ordered):
        raise NoSuchPosition(f"cannot move to position {to}: {_range(len(ordered), 'a rule')}")
    rule = ordered.pop(position - 1)
    ordered.insert(to - 1, rule)
    return _numbered(ordered)


def _numbered(rules: Sequence[R]) -> list[R]:
    """The rules as listed, numbered 1, 2, 3..."""
    return [replace(rule, position=index) for index, rule in enumerate(rules, start=1)]


def _check_at(position: int, ordered: Sequence[OrderedRule]) -> None:
    if not 1 <= position <= len(ordered):
        raise NoSuchPosition(f"no rule at position {position}: {_range(len(ordered), 'a rule')}")


def _range(last: int, what: str) -> str:
    if last == 0:
        return "there are no rules"
    if last == 1:
        return f"the only position for {what} is 1"
    return f"positions for {what} are 1 to {last}"
