"""`rbtk admin export`: the whole configuration as YAML, to keep as code and apply elsewhere.

A client of `GET /api/v1/config`, like every `rbtk admin` command; the YAML is rendered here
from the answer (`rbtk.config_file.export.render`), so `--output json` prints the answer as
it came. Secrets are never in it: see `rbtk admin apply`.
"""

import typer

from rbtk.cli.remote import remote

PATH = "/api/v1/config"
SHOWN = ("document", "secrets", "defaults")


def export(ctx: typer.Context) -> None:
    """Print the configuration as YAML: connectors (keys as key_env references, with a comment
    saying which key rbtk holds), routing, chat channels and rules, windows not yet over."""
    from rbtk.config_file.export import Exported, render  # heavy: only for this command

    server = remote(ctx)
    with server.api() as api:
        answer = api.get(PATH, expect=SHOWN)
    server.show(answer, lambda a: [render(Exported.from_json(a)).rstrip("\n")])
