"""`rbtk secrets ...`: the secret key at rest, on the local database (like `rbtk tokens`)."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "rotate": "rbtk.cli.secrets.rotate:rotate",
        "reset": "rbtk.cli.secrets.reset:reset",
    },
    no_args_is_help=True,
    help="Rotate RBTK_SECRET_KEY, or enter the stored secrets again after losing it.",
)
