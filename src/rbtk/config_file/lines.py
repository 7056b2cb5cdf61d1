"""Where in the file a problem is: a document path (`loc`) to a line and column.

PyYAML composes the file into nodes before it builds values, and every node keeps where it
starts (`start_mark`). Walking the nodes along a loc finds the value it names; a loc naming
what the file left out (a required key) stays at the mapping that should hold it: a loc part
the file has no node for (that key, pydantic's name of a union member, `[key]`) is passed over.
"""

from dataclasses import dataclass
from typing import Any

import yaml

from rbtk.config_file.problems import Loc, Problem


@dataclass(frozen=True)
class Position:
    line: int  # from 1, as editors count
    column: int  # from 1


class Unreadable(ValueError):
    """The text is not YAML; `position` is where the parser gave up."""

    def __init__(self, message: str, position: Position | None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Source:
    """A document's text as read, with its nodes: where each value of it is."""

    label: str  # how to name the file in a message: its path, or "stdin"
    data: Any  # the values, as yaml.safe_load reads them
    root: Any  # the composed node tree (None for an empty file)

    @classmethod
    def read(cls, text: str, label: str) -> "Source":
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = None if mark is None else Position(mark.line + 1, mark.column + 1)
            raise Unreadable(f"is not valid YAML: {exc.problem or exc.context}", where) from None
        except yaml.YAMLError as exc:
            raise Unreadable(f"is not valid YAML: {exc}", None) from None
        except RecursionError:  # the YAML reader recurses once per level of nesting
            raise Unreadable(
                "nests deeper than rbtk reads (a configuration is a few levels deep)", None
            ) from None
        return cls(label, data, root)

    def position(self, loc: Loc) -> Position:
        return position(self.root, loc)

    def locate(self, problem: Problem) -> str:
        """`rbtk.yaml:14:19: pagerduty.connectors[0].max_severity: Input should be ...`"""
        at = self.position(problem.loc)
        return f"{self.label}:{at.line}:{at.column}: {problem}"


def position(root: Any, loc: Loc) -> Position:
    """Where the value at `loc` starts; the start of the file for an empty one."""
    if root is None:
        return Position(1, 1)
    node = root
    for part in loc:
        node = _child(node, part) or node
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part >= 0:
        return node.value[part] if part < len(node.value) else None
    return None
