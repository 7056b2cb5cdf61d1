"""A document applied: its plan carried out through `rbtk.admin`, all or nothing.

Every write goes through the same admin functions as the API's, the CLI's and the pages', so
it is checked the same way and moves `config_version` the same way (fan-out reads the new
configuration at its next event). The caller's transaction holds it all; the writes run in a
savepoint inside it, rolled back on any refusal, and on a dry run once they have all passed:
a plan that passes a dry run is one that applies, unless something changes in between.

In order, so that nothing is named before it exists or removed while something names it:
connectors created and changed, chat channels created and changed, the routing and chat rule
lists, suppression windows ended and opened, then chat channels and connectors removed.

A connector the file leaves out is removed only when safe: while it has open incidents, the
admin refusal (ConnectorInUse) is a problem, unless `force` (its incidents are then forgotten
and their resolves never sent, as `rbtk admin pd connectors remove --force` does).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

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
from rbtk.admin.connectors import ConnectorInUse, Keep
from rbtk.config_file import document as doc
from rbtk.config_file.plan import ChannelStep, ConnectorStep, Plan, WindowStep, make_plan
from rbtk.config_file.problems import ConfigProblems, Loc, Problem
from rbtk.config_file.references import Secrets
from rbtk.runtime.errors import AdminError, InvalidList
from rbtk.runtime.secrets import Secret, Vault

_POSITION = re.compile(r"position (\d+): (.*)", re.DOTALL)


def apply(
    connection: Connection,
    document: doc.Document,
    *,
    secrets: Secrets,
    vault: Vault,
    allow_private_webhooks: bool,
    force: bool,
    by: str,
    dry_run: bool,
    now: datetime,
) -> Plan:
    """Make the stored configuration match `document` (nothing written when `dry_run`);
    answer the plan. ConfigProblems, with nothing changed, when any part cannot be applied."""
    found = doc.problems(document)
    if found:
        raise ConfigProblems(found)
    plan = make_plan(
        connection,
        document,
        secrets=secrets,
        vault=vault,
        allow_private_webhooks=allow_private_webhooks,
        dry_run=dry_run,
        now=now,
    )
    if not plan.changes:
        return plan
    savepoint = connection.begin_nested()
    try:
        _carry_out(connection, plan, vault, allow_private_webhooks, force, by, now)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return plan


def _carry_out(
    connection: Connection,
    plan: Plan,
    vault: Vault,
    allow_private: bool,
    force: bool,
    by: str,
    now: datetime,
) -> None:
    kept = [step for step in plan.connectors if step.desired is not None]
    for step in kept:
        _connector(connection, step, vault, by, now)
    for channel_step in plan.channels:
        if channel_step.desired is not None:
            _channel(connection, channel_step, vault, allow_private, by, now)
    if plan.routing:
        with _at(("pagerduty", "routing"), rules=True):
            routing.replace_rules(connection, plan.routing_rules, by=by, now=now)
    for runbook in plan.runbooks:
        with _at(runbook.loc):
            url = runbook.diffs[0].after
            if url is None:
                runbooks.unset(connection, rule=runbook.name, by=by, now=now)
            else:
                runbooks.set_url(connection, rule=runbook.name, url=url, by=by, now=now)
    if plan.chat_rules:
        with _at(("chat", "rules"), rules=True):
            chat_channels.replace_rules(connection, plan.chat_rule_list, by=by, now=now)
    for window_step in sorted(plan.windows, key=lambda s: s.desired is not None):
        _window(connection, window_step, by, now)
    for channel_step in plan.channels:
        if channel_step.desired is None:
            with _at(channel_step.change.loc):
                chat_channels.remove_channel(
                    connection, name=channel_step.change.name, by=by, now=now
                )
    for step in plan.connectors:
        if step.desired is None:
            _remove_connector(connection, step, force, by, now)


def _connector(
    connection: Connection, step: ConnectorStep, vault: Vault, by: str, now: datetime
) -> None:
    wanted = step.desired
    assert wanted is not None
    rules = wanted.enabled()
    enable = [rule.value for rule, on in rules.items() if on]
    disable = [rule.value for rule, on in rules.items() if not on]
    settings = connector_settings.of(wanted)
    rest_key: str | Keep | None = (
        step.rest_key.reveal() if isinstance(step.rest_key, Secret) else step.rest_key
    )
    with _at(step.change.loc):
        if step.change.action == "create":
            assert step.key is not None
            connectors.add(
                connection,
                vault=vault,
                name=wanted.name,
                key=step.key.reveal(),
                settings=settings,
                enable=enable,
                disable=disable,
                rest_key=rest_key if isinstance(rest_key, str) else None,
                by=by,
                now=now,
            )
            return
        connectors.update(
            connection,
            vault=vault,
            name=wanted.name,
            key=None if step.key is None else step.key.reveal(),
            changes=settings.model_dump(),
            enable=enable,
            disable=disable,
            rest_key=rest_key,
            by=by,
            now=now,
        )


def _remove_connector(
    connection: Connection, step: ConnectorStep, force: bool, by: str, now: datetime
) -> None:
    name = step.change.name
    try:
        connectors.remove(connection, name=name, force=force, by=by, now=now)
    except ConnectorInUse as exc:
        plural = "incident" if exc.open_incidents == 1 else "incidents"
        message = (
            f"connector {name!r} is not in the file, so it would be removed, but it still has "
            f"{exc.open_incidents} open {plural}: keep it in the file until they resolve, or "
            "apply with --force to remove it anyway (rbtk then forgets them and never sends "
            "their resolves)"
        )
        raise ConfigProblems([Problem(step.change.loc, message)]) from None
    except AdminError as exc:
        raise ConfigProblems([Problem(step.change.loc, str(exc))]) from None


def _channel(
    connection: Connection,
    step: ChannelStep,
    vault: Vault,
    allow_private: bool,
    by: str,
    now: datetime,
) -> None:
    wanted = step.desired
    assert wanted is not None
    with _at(step.change.loc):
        if step.change.action == "create":
            chat_channels.add_channel(
                connection,
                vault=vault,
                name=wanted.name,
                kind=wanted.kind,
                values=step.values,
                allow_private_webhooks=allow_private,
                by=by,
                now=now,
                health=wanted.health,
            )
            return
        if step.destination:
            channel_destinations.update_destination(
                connection,
                vault=vault,
                name=wanted.name,
                kind=wanted.kind,
                values=step.values,
                allow_private_webhooks=allow_private,
                by=by,
                now=now,
            )
        if step.health:
            chat_channels.set_health(
                connection, name=wanted.name, health=wanted.health, by=by, now=now
            )


def _window(connection: Connection, step: WindowStep, by: str, now: datetime) -> None:
    with _at(step.change.loc):
        if step.desired is None:
            assert step.window_id is not None
            suppressions.end(connection, step.window_id, by=by, now=now)
            return
        suppressions.create(
            connection,
            connector=step.desired.connector,
            all_connectors=False,
            starts_at=step.desired.starts_at,
            ends_at=step.desired.ends_at,
            reason=step.desired.reason,
            by=by,
            now=now,
        )


@contextmanager
def _at(loc: Loc, *, rules: bool = False) -> Iterator[None]:
    """An admin refusal as a problem at `loc`; a rule list's "position N: ..." at its rule."""
    try:
        yield
    except InvalidList as exc:
        if not rules:
            raise ConfigProblems([Problem(loc, e) for e in exc.errors]) from None
        problems = []
        for error in exc.errors:
            match = _POSITION.fullmatch(error)
            if match is None:
                problems.append(Problem(loc, error))
            else:
                problems.append(Problem((*loc, int(match[1]) - 1), match[2]))
        raise ConfigProblems(problems) from None
    except AdminError as exc:
        raise ConfigProblems([Problem(loc, e) for e in exc.errors]) from None
