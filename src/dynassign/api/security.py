"""Sign-in for API requests: a per-user bearer token or the Django session."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from dynassign.organizations.models import ApiToken

log = logging.getLogger(__name__)

# last_used_at is written at most this often per token, so busy clients do
# not turn every read into a database write.
_LAST_USED_PRECISION = dt.timedelta(minutes=5)


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from POST /api/auth/token or signup."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = ApiToken.find(token.strip()) if token.strip() else None
        if api_token is None or not api_token.user.is_active:
            log.info("api token rejected path=%s token=%s", request.path, api_token.id if api_token else None)
            # A wrong token is an error even when a session cookie is present,
            # so a client learns at once that its token no longer works.
            raise AuthenticationError(message="The API token is invalid or revoked; get a new one from POST /api/auth/token.")
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > _LAST_USED_PRECISION:
            ApiToken.objects.filter(id=api_token.id).update(last_used_at=now)
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class SessionCookie(SessionAuth):
    """The Django session; unsafe methods must pass the CSRF check.

    A request without a signed-in session is passed over before the CSRF
    check, so it gets 401 (sign in) rather than 403 (CSRF).
    """

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


AUTH = [BearerToken(), SessionCookie()]
