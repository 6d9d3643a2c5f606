"""Failures a caller can handle, one class each.

Every class carries a message for the person who caused it; the API and the
pages map ``status`` to the HTTP status in one place.
"""

from __future__ import annotations


class DynassignError(Exception):
    """A refusal with a message naming the value and the fix."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidValue(DynassignError):
    status = 422
    code = "invalid_value"


class NotFound(DynassignError):
    status = 404
    code = "not_found"


class PermissionDenied(DynassignError):
    status = 403
    code = "forbidden"


class InvalidJoinLink(DynassignError):
    status = 404
    code = "invalid_link"


class CampaignFull(DynassignError):
    status = 409
    code = "campaign_full"


class Conflict(DynassignError):
    status = 409
    code = "conflict"


class ConfigurationError(DynassignError):
    """A setting names something that does not exist, such as an unknown strategy."""

    status = 422
    code = "configuration_error"


class DatabaseBusy(DynassignError):
    status = 503
    code = "busy"
