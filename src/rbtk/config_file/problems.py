"""What is wrong with a configuration document, and where in it.

A `loc` is a path into the document, as pydantic names one: `("pagerduty", "connectors", 0,
"max_severity")`. The CLI turns it into a line and column of the file it read
(`rbtk.config_file.lines`); the API answers it as a list.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rbtk.admin.errors import Invalid

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


def from_validation(error: ValidationError, secret_names: Iterable[str] = ()) -> list[Problem]:
    """pydantic's errors as problems; a secret written outright is told where it belongs."""
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
        problems.append(Problem(loc, message))
    return problems
