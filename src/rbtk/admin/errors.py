"""The one error root of the write path: what the API, the CLI and the pages refuse.

Each message says what is wrong and what to do. The API maps the three kinds to HTTP once
(`rbtk.app`): NotFound 404, Conflict 409, Invalid 422 (with `errors`, one per problem).

    AdminError
      ├── NotFound (also a LookupError) — no connector, channel, window or rule by that name
      ├── Conflict — the request clashes with what is stored: a name taken, a removal
      │   refused while something still depends on it, a window already ended
      └── Invalid (also a ValueError) — the request itself is wrong; `errors` names each
          problem
"""


class AdminError(Exception):
    @property
    def errors(self) -> list[str]:
        return [str(self)]


class NotFound(AdminError, LookupError):
    pass


class Conflict(AdminError):
    pass


class Invalid(AdminError, ValueError):
    pass


class InvalidList(Invalid):
    """An ordered rule list with problems: each is named, and nothing was saved."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self._errors = errors

    @property
    def errors(self) -> list[str]:
        return self._errors
