"""The one application object of the API commands: where rbtk is, the token, the output.

`rbtk admin` and `rbtk events` take `--url`, `--token` and `--output` once, on the group,
and store a `Remote` on the Typer context; each command fetches it with `remote(ctx)`,
opens its client with `Remote.api()` and prints what the API answered with `Remote.show`.
Nothing is checked until a command opens the client, so `--help` works without a token.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from rbtk.cli.client import DEFAULT_URL, Api, Scope
from rbtk.runtime.secrets import Secret


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"


Url = Annotated[
    str,
    typer.Option("--url", envvar="RBTK_URL", help="Where the rbtk API is served."),
]
Token = Annotated[
    Secret | None,
    typer.Option(
        "--token",
        envvar="RBTK_TOKEN",
        parser=Secret,
        metavar="TOKEN",
        show_default=False,
        help="API token; prefer RBTK_TOKEN, which stays out of shell history.",
    ),
]
OutputOption = Annotated[
    Output,
    typer.Option(
        "--output",
        envvar="RBTK_OUTPUT",
        help="text for people, or json: the API's answer as it came, for scripts.",
    ),
]

Describe = Callable[[Any], Iterable[str]]


@dataclass(frozen=True)
class Remote:
    """A running rbtk as the command line names it, and how its answers are printed."""

    url: str
    token: Secret | None
    output: Output = Output.TEXT

    def api(self, *, scope: Scope = "admin") -> Api:
        """A client of the server; a bad URL or a missing token fails here, in one line."""
        return Api(self.url, self.token, scope=scope)

    def show(self, answer: Any, describe: Describe) -> None:
        """The answer as `describe` words it, or as JSON; no lines or no answer print nothing."""
        if self.output is Output.TEXT:
            lines = list(describe(answer))
            if lines:
                typer.echo("\n".join(lines))
        elif answer is not None:
            typer.echo(json.dumps(answer, indent=2))


def connect(
    ctx: typer.Context,
    url: Url = DEFAULT_URL,
    token: Token = None,
    output: OutputOption = Output.TEXT,
) -> None:
    """The group callback: keep the options for the command that runs next."""
    ctx.obj = Remote(url, token, output)


def remote(ctx: typer.Context) -> Remote:
    """The `Remote` the group stored; the commands run under `rbtk admin` or `rbtk events`."""
    found = ctx.find_object(Remote)
    if found is None:
        raise RuntimeError("an API command ran outside the admin or events group")
    return found
