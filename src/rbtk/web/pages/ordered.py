"""Editing an ordered rule list from a page: PagerDuty routing and Slack/email rules alike.

    POST {page}/rules                     add a rule
    POST {page}/rules/{position}          edit it
    POST {page}/rules/{position}/move     to=
    POST {page}/rules/{position}/remove

A page changes one rule but the services save only whole lists (`routing.replace_rules`,
`chat_channels.replace_rules`), validated first; these routes read the form and hand the
page's save function the change, made with `rbtk.routing.ordered_rules`' list edits.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection
from starlette.datastructures import FormData

from rbtk.api.deps import Ctx
from rbtk.context import Context
from rbtk.routing.ordered_rules import (
    NoSuchPosition,
    OrderedRule,
    inserted,
    moved,
    replaced,
    without,
)
from rbtk.runtime.errors import InvalidList
from rbtk.web.auth import Csrf
from rbtk.web.labels import say
from rbtk.web.render import form_list, form_text

R = TypeVar("R", bound=OrderedRule)

Change = Callable[[list[R]], list[R]]


class Save(Protocol[R]):
    """A page's: apply `change` to its list; the answer is a redirect, or the page again with
    the problems and the form as it was sent."""

    def __call__(
        self,
        request: Request,
        context: Context,
        change: Change[R],
        *,
        done: str,
        edit: int | None = None,
        add_form: dict[str, Any] | None = None,
        edit_form: dict[str, Any] | None = None,
    ) -> Response: ...


class Replace(Protocol[R]):
    def __call__(
        self, connection: Connection, rules: Sequence[R], *, by: str, now: datetime
    ) -> list[R]: ...


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


def rule_routes(router: APIRouter, kind: type[R], save: Save[R]) -> None:
    """Add the four rule routes to a page's router; its form names targets `kind.targets_field`."""

    @router.post("/rules", dependencies=[Csrf])
    async def add_rule(request: Request, context: Ctx) -> Response:
        fields = RuleFields.read(await request.form(), kind.targets_field)
        rule = kind(0, fields.project, fields.event_type, fields.names)
        return save(
            request,
            context,
            lambda rules: inserted(rules, rule, position=fields.position),
            done="Rule added.",
            add_form=fields.shown(),
        )

    @router.post("/rules/{position}", dependencies=[Csrf])
    async def edit_rule(request: Request, position: int, context: Ctx) -> Response:
        fields = RuleFields.read(await request.form(), kind.targets_field)
        rule = kind(position, fields.project, fields.event_type, fields.names)
        return save(
            request,
            context,
            lambda rules: replaced(rules, rule),
            done=f"Rule {position} saved.",
            edit=position,
            edit_form=fields.shown(),
        )

    @router.post("/rules/{position}/move", dependencies=[Csrf])
    async def move_rule(request: Request, position: int, context: Ctx) -> Response:
        to = form_text(await request.form(), "to")
        target = int(to) if to.isdigit() else 0
        return save(
            request,
            context,
            lambda rules: moved(rules, position, target),
            done=f"Rule {position} moved to position {target}.",
        )

    @router.post("/rules/{position}/remove", dependencies=[Csrf])
    def remove_rule(request: Request, position: int, context: Ctx) -> Response:
        return save(
            request,
            context,
            lambda rules: without(rules, position),
            done=f"Rule {position} removed.",
        )


def save_errors(
    context: Context,
    change: Change[R],
    load: Callable[[Connection], list[R]],
    replace: Replace[R],
    *,
    by: str,
) -> list[str]:
    """Apply `change` to the stored list and save it whole, as `by` (who is signed in): the
    problems, none once saved."""
    try:
        with context.engine.begin() as connection:
            replace(connection, change(load(connection)), by=by, now=datetime.now(UTC))
    except InvalidList as exc:
        return [say(e) for e in exc.errors]
    except NoSuchPosition as exc:
        return [say(exc)]
    return []
