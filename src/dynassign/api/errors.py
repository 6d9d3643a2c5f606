"""The API's error responses, mapped in one place.

Every error body is ``{"error": code, "message": text}``; validation errors
add ``errors``, one entry per invalid field. No response carries a stack
trace: unexpected exceptions are logged with the request path instead.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dynassign.exceptions import DynassignError

log = logging.getLogger(__name__)

# The first part of a validation error location names where the value came
# from; the next may name the endpoint's parameter holding a whole schema.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}
_SCHEMA_PARAMETERS = {"payload", "filters", "page"}

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_value",
    429: "too_many_requests",
}


def error_response(api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"error": code, "message": message, **extra}, status=status)


def field_name(location: tuple[Any, ...] | list[Any]) -> str:
    """Return the dotted field name of a validation error location, without its source."""
    parts = [str(part) for part in location]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _SCHEMA_PARAMETERS:
        parts = parts[1:]
    return ".".join(parts) or "request body"


def describe_validation_errors(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """Return one readable sentence naming every invalid field, and the errors by field."""
    fields = []
    for error in errors:
        name = field_name(error.get("loc", ()))
        fields.append({"field": name, "message": error.get("msg", "invalid value")})
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
    return f"Invalid request: {summary}. Correct the named fields and send it again.", fields


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every failure into the JSON error body."""

    def on_domain_error(request: HttpRequest, error: DynassignError) -> HttpResponse:
        log.info("request rejected path=%s status=%s code=%s", request.path, error.status, error.code)
        return error_response(api, request, error.status, error.code, error.message)

    def on_validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
        message, fields = describe_validation_errors(error.errors)
        log.info("invalid request path=%s fields=%s", request.path, [field["field"] for field in fields])
        return error_response(api, request, 422, "invalid_value", message, errors=fields)

    def on_authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
        message = error.message
        if message == "Unauthorized":
            message = "Sign in first: send a session cookie or an 'Authorization: Bearer <token>' header."
        return error_response(api, request, error.status_code, "unauthorized", message)

    def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        code = _CODES_BY_STATUS.get(error.status_code, "error")
        message = error.message
        if message == "CSRF check Failed":
            message = (
                "CSRF check failed: requests signed in by session cookie must send the "
                "X-CSRFToken header with the csrftoken cookie's value."
            )
        elif message == "Cannot parse request body":
            message = "The request body is not valid JSON; send a JSON object."
        return error_response(api, request, error.status_code, code, message)

    def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found", "Not found; check the id in the address.")

    def on_operational_error(request: HttpRequest, error: OperationalError) -> HttpResponse:
        if "database is locked" in str(error):
            log.warning("database busy path=%s error=%s", request.path, error)
            return error_response(
                api, request, 503, "busy", "The database is busy with other requests; try again in a moment."
            )
        return on_unexpected(request, error)

    def on_unexpected(request: HttpRequest, error: Exception) -> HttpResponse:
        log.exception("unexpected error path=%s method=%s", request.path, request.method)
        return error_response(
            api, request, 500, "server_error", "Something went wrong on the server; it has been logged. Try again later."
        )

    api.add_exception_handler(DynassignError, on_domain_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(OperationalError, on_operational_error)
    api.add_exception_handler(Exception, on_unexpected)
