"""Domain errors raised by services; views map them onto forms, flashes and status codes."""
from __future__ import annotations


class ServiceError(Exception):
    """A request the domain refuses. `field` names the form field it belongs to, if any."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class LimitReached(ServiceError):
    status = 402


class TransitionRefused(ServiceError):
    status = 409
