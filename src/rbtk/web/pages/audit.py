"""Settings → Audit log: every configuration change, newest first: when, who (the name of the
token signed in with, or of the API token), what, on what, and the fields it changed.

    GET /settings/audit?action=&target=&before_id=

The same read as `GET /api/v1/audit` (`rbtk.admin.audit`).
"""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rbtk.admin import audit
from rbtk.api.deps import Ctx
from rbtk.web.auth import SignedIn
from rbtk.web.render import page

PREFIX = "/settings/audit"
PAGE_SIZE = 50
# The families of actions the filter offers: value → label.
FAMILIES = {
    "connector": "Connectors",
    "routing": "PagerDuty routing",
    "runbook": "Runbooks",
    "suppression": "Suppressions",
    "channel": "Slack and email channels",
    "chat_rules": "Slack and email rules",
    "token": "API tokens",
}

router = APIRouter(prefix=PREFIX, dependencies=[SignedIn], include_in_schema=False)


@router.get("")
def audit_page(
    request: Request, context: Ctx, action: str = "", target: str = "", before_id: int = 0
) -> Response:
    with context.reads.connect() as connection:
        found = audit.list_entries(
            connection,
            before_id=before_id if before_id > 0 else None,
            limit=PAGE_SIZE,
            action=action.strip() or None,
            target=target.strip() or None,
        )
    return page(
        request,
        "audit.html",
        title="Audit log",
        entries=found.entries,
        next_before_id=found.next_before_id,
        before_id=before_id,
        filters={"action": action, "target": target},
        families=FAMILIES,
        shown=shown,
    )


def shown(value: Any) -> str:
    """A recorded value as the page prints it: text as it is, a list of names as a list,
    nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value) or "none"
    return json.dumps(value, ensure_ascii=False)
