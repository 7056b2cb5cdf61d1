"""The one error root of the write path: what the API, the CLI and the pages refuse.

Each message says what is wrong and what to do. The API maps the three kinds to HTTP once
(`rbtk.app`): NotFound 404, Conflict 409, Invalid 422 (with `errors`, one per problem).

    AdminError
      ├── NotFound (also a LookupError) — no connector, channel, window or rule by that name
      ├── Conflict — the request clashes with what is stored: a name taken, a removal
      │   refused while something still depends on it, a window already ended
      └── Invalid (also a ValueError) — the request itself is wrong; `errors` names each
          problem

An error about one field of the request names it in `field`, as the API and the CLI name it
(`integration_key`, `storm_window_s`, `url`), set where it is raised: the pages highlight that
field without reading the message. `field` is None for an error about the request as a whole
or about several fields at once.
"""


class AdminError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

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
