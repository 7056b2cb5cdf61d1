"""A chat channel's destination changed in place: its kind, its fields and its secret.

Applying a configuration file (`rbtk.config_file`) makes a channel match the file without
removing it, which the rules naming it would refuse, and keeps its delivery log under the
same name. Checked as `rbtk.admin.chat_channels.add_channel` checks a new channel; the errors are
that module's (InvalidChannel, UnknownChannel).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from rbtk.admin import audit
from rbtk.admin.chat_channels import ChannelView, audited, destination_values, get_channel
from rbtk.runtime.secrets import Secret, Vault
from rbtk.store.tables import notify_channels


def update_destination(
    connection: Connection,
    *,
    vault: Vault,
    name: str,
    kind: str,
    values: Mapping[str, Any],
    allow_private_webhooks: bool,
    by: str,
    now: datetime,
) -> ChannelView:
    """Make channel `name` a `kind` channel sending to `values` (its fields, its secret in the
    clear). Its name, rules, health mark and delivery log stay; the change is audited."""
    stored = destination_values(vault, kind, values, allow_private=allow_private_webhooks)
    before = get_channel(connection, name=name)  # UnknownChannel when there is none
    connection.execute(
        update(notify_channels).where(notify_channels.c.name == name).values(**stored)
    )
    view = get_channel(connection, name=name)
    audit.record(
        connection,
        by=by,
        action="channel.update",
        target=name,
        before=audited(before),
        after=audited(view),
        at=now,
    )
    return view


def stored_secret(connection: Connection, *, vault: Vault, name: str) -> Secret | None:
    """The channel's secret as stored (None when its kind has none): to tell whether a new
    value is a change, never to show it."""
    token = connection.execute(
        select(notify_channels.c.secret).where(notify_channels.c.name == name)
    ).scalar_one_or_none()
    return None if token is None else vault.decrypt(token)
