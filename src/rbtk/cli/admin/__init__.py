"""`rbtk admin ...`: administer a running rbtk through its HTTP API."""

from rbtk.cli.lazy import group
from rbtk.cli.remote import connect

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "pd": "rbtk.cli.admin.pd:app",
        "notify": "rbtk.cli.admin.notify:app",
        "export": "rbtk.cli.admin.export:export",
        "apply": "rbtk.cli.admin.apply:apply",
        "schema": "rbtk.cli.admin.schema:schema",
        "audit": "rbtk.cli.admin.audit:audit",
    },
    no_args_is_help=True,
    help="Administer a running rbtk through its API.",
    callback=connect,
)
