"""`rbtk admin pd runbooks ...`: a runbook URL per paging rule, linked from its incidents."""

from rbtk.cli.lazy import group

# Each subcommand's module is imported when it is run (rbtk.cli.lazy).
app = group(
    {
        "list": "rbtk.cli.admin.pd.runbooks.list:list_runbooks",
        "set": "rbtk.cli.admin.pd.runbooks.set:set_runbook",
        "unset": "rbtk.cli.admin.pd.runbooks.unset:unset",
    },
    no_args_is_help=True,
    help="Runbook URLs per paging rule: PagerDuty shows each with the incidents it opens.",
)
