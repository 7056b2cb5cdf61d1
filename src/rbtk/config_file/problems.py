"""What is wrong with a configuration document, and where in it.

A `loc` is a path into the document, as pydantic names one: `("pagerduty", "connectors", 0,
"max_severity")`. The CLI turns it into a line and column of the file it read
(`rbtk.config_file.lines`); the API answers it as a list.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from rbtk.runtime.errors import Invalid

Loc = tuple[str | int, ...]

# Where someone might write a secret outright: the document takes only references to them.
SECRET_NAMES = frozenset({"key", "integration_key", "routing_key"})


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str

    @property
    def path(self) -> str:
        """`pagerduty.connectors[0].max_severity`: the loc as a person reads it."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
        return text

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.loc else self.message

    def as_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "message": self.message}


class ConfigProblems(Invalid):
    """A document that cannot be applied; `problems` says where and why. Nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        plural = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"the configuration has {len(problems)} {plural}; nothing was changed: "
            + "; ".join(str(p) for p in problems)
        )
        self.problems = list(problems)

    @property
    def errors(self) -> list[str]:
        return [str(p) for p in self.problems]


def from_validation(
    error: ValidationError, model: type[BaseModel], secret_names: Iterable[str] = ()
) -> list[Problem]:
    """pydantic's errors about a `model` document as problems; a secret written outright is
    told where it belongs, and a misspelt key the closest one allowed there."""
    secrets = SECRET_NAMES | frozenset(secret_names)
    problems = []
    for found in error.errors(include_url=False, include_input=False):
        loc: Loc = tuple(found["loc"])
        message = str(found["msg"]).removeprefix("Value error, ")
        if found["type"] == "extra_forbidden" and loc and loc[-1] in secrets:
            name = "key" if loc[-1] in SECRET_NAMES else loc[-1]
            message = (
                "never write a secret in the file: put it in an environment variable and name "
                f"it with {name}_env (or in a file, named with {name}_file)"
            )
        elif found["type"] == "extra_forbidden" and loc:
            message = _unknown_key(str(loc[-1]), _allowed_keys(model, loc[:-1]))
        problems.append(Problem(loc, message))
    return problems


def _unknown_key(key: str, allowed: Sequence[str]) -> str:
    closest = get_close_matches(key, allowed, n=1, cutoff=0.6)
    if closest:
        return f"unknown key {key!r}; did you mean {closest[0]!r}?"
    if allowed:
        return f"unknown key {key!r}; allowed here: {', '.join(allowed)}"
    return f"unknown key {key!r}"


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the document allows at `loc`, found by walking the models along it: a field
    name steps into its type, a list index into the item, and the tag pydantic puts in the loc
    of a tagged union (a chat channel's kind) picks that member."""
    models = [model]
    for part in loc:
        if isinstance(part, int):
            continue  # the item's models were taken with the list's field
        holding = [m for m in models if part in m.model_fields]
        if holding:
            models = _models_in(holding[0].model_fields[part].annotation)
        else:
            models = [m for m in models if _tag(m) == part]
    return list(models[0].model_fields) if len(models) == 1 else []


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _tag(model: type[BaseModel]) -> object:
    kind = model.model_fields.get("kind")
    tags = get_args(kind.annotation) if kind is not None else ()
    return tags[0] if len(tags) == 1 else None
