"""One error base with a stable code, rendered as {"error": {"code", "message", ...}}."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class AppError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class NotFound(AppError):
    code = "not_found"
    status = 404


class Conflict(AppError):
    code = "conflict"
    status = 409


class InvalidInput(AppError):
    code = "invalid_input"
    status = 422


class Unauthorized(AppError):
    code = "unauthorized"
    status = 401


class ErrorDetail(BaseModel):
    """`code` is stable (clients branch on it); `message` is for people; some codes add details."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx answer of the JSON API: `{"error": {"code", "message", ...details}}`."""

    error: ErrorDetail


def error_responses(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route: each status with the error shape and what it means there.

    A 422 given here replaces FastAPI's own validation schema, which our handler never sends.
    """
    return {status: {"model": ErrorBody, "description": text} for status, text in described.items()}
