"""What every route shares in its contract: request bodies' base, ids' range, the error shape."""

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from rbtk.api.errors import ApiError

# Ids are 64-bit signed integers in both databases; a larger one names no row, and binding
# it fails in the driver.
MAX_ID = 2**63 - 1
NUL = "must not contain a NUL character"

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
BeforeId = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="the previous answer's next_before_id")
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Body(BaseModel):
    """A request body: unknown fields and NUL characters (PostgreSQL stores none) refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError(NUL)
        return value


class Error(BaseModel):
    """Every error any route answers: what is wrong, and each problem when there are several."""

    detail: str
    errors: list[str] | None = Field(default=None, description="each problem, one a line")


def no_nul_in_parameters(request: Request) -> None:
    """Path and query parameters with a NUL: a 422 naming them, not a driver error."""
    named = [("path", k, v) for k, v in request.path_params.items()]
    named += [("query", k, v) for k, v in request.query_params.multi_items()]
    errors = [f"{where}.{key}: {NUL}" for where, key, value in named if _has_nul(value)]
    errors += [f"{where}: a name {NUL}" for where, key, _ in named if _has_nul(key)]
    if errors:
        raise ApiError(422, "; ".join(errors), errors)
