"""The secrets a document names, read where the operator runs `rbtk admin apply`.

A document names each secret by reference (`key_env: PD_PRODUCTION_KEY`, `key_file:
keys/pd.key`, `rest_key_env: PD_PRODUCTION_REST_KEY`): the values stay in the operator's
environment and files, never in the document or in what rbtk exports. They are read here, on
the CLI's side, and sent to rbtk over the API as `rbtk admin pd connectors add` sends a key
(rbtk stores them encrypted, and compares them with what it stores by fingerprint). A
reference that cannot be read is a problem naming its place, and nothing is sent.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbtk.config_file.document import Document, Reference
from rbtk.config_file.problems import ConfigProblems, Loc, Problem
from rbtk.runtime.secrets import Secret


@dataclass(frozen=True)
class Secrets:
    """Each connector's key, REST API key (those that have one) and each chat channel's
    secret, by name."""

    connectors: dict[str, Secret] = field(default_factory=dict)
    channels: dict[str, Secret] = field(default_factory=dict)
    rest_keys: dict[str, Secret] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The request's `secrets`: the clear values, for the API only."""
        return {
            "connectors": {name: s.reveal() for name, s in self.connectors.items()},
            "channels": {name: s.reveal() for name, s in self.channels.items()},
            "rest_keys": {name: s.reveal() for name, s in self.rest_keys.items()},
        }


def resolve(
    document: Document, *, environ: Mapping[str, str], folder: Path, allow_unset: bool = False
) -> Secrets:
    """Read every reference; ConfigProblems naming each one that cannot be read.

    With `allow_unset` (a dry run), a variable that is not set is left out rather than a
    problem: rbtk then plans with the secret it stores, and says so.
    """
    secrets = Secrets()
    problems: list[Problem] = []
    for at, connector in enumerate(document.pagerduty.connectors):
        reference = connector.key
        loc: Loc = ("pagerduty", "connectors", at, reference.field)
        value = _read(reference, loc, environ, folder, problems, allow_unset)
        if value is not None:
            secrets.connectors[connector.name] = Secret(value)
        rest_reference = connector.rest_key
        if rest_reference is not None:
            loc = ("pagerduty", "connectors", at, rest_reference.field)
            value = _read(rest_reference, loc, environ, folder, problems, allow_unset)
            if value is not None:
                secrets.rest_keys[connector.name] = Secret(value)
    for at, channel in enumerate(document.chat.channels):
        channel_reference = channel.secret
        if channel_reference is None:
            continue
        loc = ("chat", "channels", at, channel_reference.field)
        value = _read(channel_reference, loc, environ, folder, problems, allow_unset)
        if value is not None:
            secrets.channels[channel.name] = Secret(value)
    if problems:
        raise ConfigProblems(problems)
    return secrets


def _read(
    reference: Reference,
    loc: Loc,
    environ: Mapping[str, str],
    folder: Path,
    problems: list[Problem],
    allow_unset: bool,
) -> str | None:
    if reference.kind == "env":
        value = environ.get(reference.value)
        if value is None and allow_unset:
            return None
        if value is None:
            problems.append(
                Problem(
                    loc,
                    f"the environment variable {reference.value} is not set: export it "
                    "with the secret before applying",
                )
            )
        elif not value.strip():
            problems.append(Problem(loc, f"the environment variable {reference.value} is empty"))
        else:
            return value.strip()
        return None
    path = folder / Path(reference.value).expanduser()
    try:
        value = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(
            Problem(loc, f"cannot read {reference.value}: {exc.strerror or type(exc).__name__}")
        )
        return None
    except UnicodeDecodeError:
        problems.append(Problem(loc, f"{reference.value} is not UTF-8 text"))
        return None
    if not value.strip():
        problems.append(Problem(loc, f"{reference.value} is empty"))
        return None
    return value.strip()
