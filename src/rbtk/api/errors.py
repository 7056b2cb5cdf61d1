"""Errors every route answers the same way: {"detail": "...", "errors": [...]}."""

from typing import Any

from fastapi import HTTPException


class ApiError(HTTPException):
    def __init__(self, status_code: int, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(status_code, detail)
        self.errors = errors


def body(detail: str, errors: list[str] | None) -> dict[str, Any]:
    return {"detail": detail} if errors is None else {"detail": detail, "errors": errors}
