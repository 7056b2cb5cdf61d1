"""`rbtk admin apply -f FILE [--dry-run] [--force]`: make rbtk's configuration match a file.

Where it runs: the configuration lives in rbtk's database, and this command is a client of
its API (`POST /api/v1/config/plan` for a dry run, `/api/v1/config/apply` otherwise), as
every `rbtk admin` command is, so it needs no access to the database or the secret key. The
file's secrets are references (`key_env`, `key_file`, `webhook_url_env`...): they are read
here, in the operator's environment, which the server cannot see, and sent with the document
as `rbtk admin pd connectors add` sends a key.

The file is checked here first (its YAML, the document's shape, what spans sections, every
reference readable), then by the server against what it stores, in one transaction that
changes everything or nothing. Each problem, from either side, is printed with the line and
column of the file it is about (`rbtk.yaml:14:19: ...`), and nothing is changed.

`--force` removes a connector the file leaves out even while it has open incidents (they are
forgotten, their resolves never sent); without it, that is a problem like any other.
"""

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from rbtk.cli.common import fail, read_text
from rbtk.cli.remote import remote
from rbtk.config_file import references
from rbtk.config_file.document import Document, problems, secret_fields
from rbtk.config_file.lines import Source, Unreadable
from rbtk.config_file.problems import ConfigProblems, Problem, from_validation

SHOWN = ("changes", "notes", "applied")


def apply(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Option(
            "--file", "-f", metavar="FILE", help="The YAML file (as `export` prints); - for stdin."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Remove connectors the file leaves out even with open incidents (forgotten, "
            "never resolved).",
        ),
    ] = False,
) -> None:
    """Show what the file changes (create, change, remove, field by field; secrets masked)
    and apply it in one transaction; any problem, named with its line, changes nothing."""
    source, folder = _read(file)
    try:
        document = Document.model_validate(source.data)
    except ValidationError as exc:
        raise _refused(source, from_validation(exc, Document, secret_fields())) from None
    found = problems(document)
    if found:
        raise _refused(source, found)
    try:
        secrets = references.resolve(
            document, environ=os.environ, folder=folder, allow_unset=dry_run
        )
    except ConfigProblems as exc:
        raise _refused(source, exc.problems) from None
    body = {
        "document": document.model_dump(mode="json", exclude_unset=True),
        "secrets": secrets.as_json(),
        "force": force,
    }
    server = remote(ctx)
    path = "/api/v1/config/plan" if dry_run else "/api/v1/config/apply"
    with server.api() as api:
        status, answer = api.answer("POST", path, body=body, expect=SHOWN, allow=(422,))
    if status == 422:
        given = [Problem(tuple(p["loc"]), p["message"]) for p in answer.get("problems") or []]
        raise _refused(source, given) if given else fail(answer["detail"])
    server.show(answer, lambda a: describe(a, source.label, dry_run=dry_run))


def _read(file: str) -> tuple[Source, Path]:
    text, label = read_text(file)
    folder = Path.cwd() if file == "-" else Path(file).parent
    try:
        return Source.read(text, label), folder
    except Unreadable as exc:
        at = "" if exc.position is None else f":{exc.position.line}:{exc.position.column}"
        raise fail(f"{label}{at}: {exc}; nothing was changed") from None


def _refused(source: Source, problems: Iterable[Problem]) -> typer.Exit:
    listed = list(problems)
    for problem in listed:
        typer.secho(f"error: {source.locate(problem)}", err=True, fg=typer.colors.RED)
    plural = "problem" if len(listed) == 1 else "problems"
    return fail(f"nothing was changed: {len(listed)} {plural} in {source.label}")


def describe(answer: Mapping[str, Any], label: str, *, dry_run: bool) -> list[str]:
    """The plan, one line per change and one per field, then what became of it."""
    lines: list[str] = []
    counts = {"create": 0, "change": 0, "remove": 0}
    for change in answer["changes"]:
        counts[change["action"]] += 1
        lines.append(f"{change['action']} {change['kind']} {change['name']}")
        for diff in change["fields"]:
            before, after = diff["before"], diff["after"]
            if before is None:
                shown = after
            elif after is None:
                shown = before
            else:
                shown = f"{before} → {after}"
            lines.append(f"    {diff['field']}: {shown}")
    lines += [f"note: {note}" for note in answer["notes"]]
    if not answer["changes"]:
        return [*lines, f"no changes: rbtk already matches {label}"]
    if dry_run:
        done = f"{counts['create']} to create, {counts['change']} to change, "
        done += f"{counts['remove']} to remove"
        return [*lines, f"plan: {done}; nothing was changed (dry run)"]
    done = f"{counts['create']} created, {counts['change']} changed, {counts['remove']} removed"
    return [*lines, f"applied: {done}"]
