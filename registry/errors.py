"""Domain errors, raised by services and answered at each door.

The API turns them into ``application/problem+json``; pages show them as
messages; the CLI prints them and exits non-zero.
"""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause and be told about."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})


class ValidationError(DomainError):
    status = 422
    title = "Invalid data"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class StaleEdit(DomainError):
    status = 412
    title = "Precondition failed"
