"""An admin refusal on a form, in one place for every page: which field to highlight, and
what is said beside it (and in the form's summary).

The field is the one the error names where it was raised (`AdminError.field`); nothing here
reads the message to find it.
"""

from collections.abc import Mapping

from rbtk.runtime.errors import AdminError
from rbtk.web.labels import say


def form_errors(
    exc: AdminError, *, default: str, renamed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{the form's field: the sentence shown beside it}. `renamed` maps a field as the API
    names it to the form's name for it (`integration_key` → `key`); an error about no one
    field goes to `default`, the field a person fixes it in."""
    field = exc.field if exc.field is not None else default
    return {(renamed or {}).get(field, field): say(exc)}
