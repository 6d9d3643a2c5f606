"""Sign-up, sign-in by session or API token, sign-out, and the caller's own profile."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Router, Status
from ninja.errors import AuthenticationError

from dynassign.api import schemas
from dynassign.exceptions import Conflict, InvalidValue
from dynassign.organizations.models import ApiToken, Membership

log = logging.getLogger(__name__)

router = Router(tags=["auth"])


def _taken(username: str) -> Conflict:
    return Conflict(f"The username {username!r} is taken; choose another or sign in.", code="username_taken")


def _create_user(payload: schemas.SignupIn) -> Any:
    """Create a user after Django's username and password validators accept the values."""
    user_model = get_user_model()
    username = payload.username.strip()
    try:
        user_model.username_validator(username)
    except DjangoValidationError:
        raise InvalidValue(
            f"username {username!r} is invalid; use letters, digits and @ . + - _ only."
        ) from None
    if user_model.objects.filter(username__iexact=username).exists():
        raise _taken(username)

    candidate = user_model(username=username, first_name=payload.first_name, last_name=payload.last_name)
    try:
        validate_password(payload.password, user=candidate)
    except DjangoValidationError as error:
        raise InvalidValue(f"password is not accepted: {' '.join(error.messages)}") from None

    try:
        with transaction.atomic():
            return user_model.objects.create_user(
                username=username,
                password=payload.password,
                first_name=payload.first_name.strip(),
                last_name=payload.last_name.strip(),
            )
    except IntegrityError:
        # Another sign-up with the same username committed first.
        raise _taken(username) from None


def _check_credentials(request: HttpRequest, credentials: schemas.CredentialsIn) -> Any:
    user = authenticate(request, username=credentials.username, password=credentials.password)
    if user is None:
        log.info("sign-in failed username=%r", credentials.username)
        raise AuthenticationError(message="Invalid username or password; check both and try again.")
    return user


@router.post("/auth/signup", auth=None, response={201: schemas.SignupOut, 409: schemas.ErrorOut, 422: schemas.ErrorOut})
def signup(request: HttpRequest, payload: schemas.SignupIn) -> Status[dict[str, Any]]:
    """Create an account and an API token; a volunteer then follows a campaign's join link."""
    user = _create_user(payload)
    _, token = ApiToken.issue(user, name="signup")
    log.info("user signed up user=%s", user.id)
    return Status(201, {"user": user, "token": token})


@router.post("/auth/login", auth=None, response={200: schemas.LoginOut, 401: schemas.ErrorOut})
def session_login(request: HttpRequest, payload: schemas.CredentialsIn) -> dict[str, Any]:
    """Start a session; later unsafe requests in it send the returned CSRF token as X-CSRFToken."""
    user = _check_credentials(request, payload)
    login(request, user)
    log.info("session started user=%s", user.id)
    return {"user": user, "csrf_token": get_token(request)}


@router.post("/auth/token", auth=None, response={200: schemas.TokenOut, 401: schemas.ErrorOut})
def issue_token(request: HttpRequest, payload: schemas.CredentialsIn) -> dict[str, Any]:
    """Issue a new API token for 'Authorization: Bearer <token>'."""
    user = _check_credentials(request, payload)
    api_token, raw = ApiToken.issue(user)
    log.info("api token issued user=%s token=%s", user.id, api_token.id)
    return {"token": raw}


@router.post("/auth/logout", response=schemas.LogoutOut)
def session_logout(request: HttpRequest) -> dict[str, Any]:
    """End the session; a request signed in with a token revokes that token."""
    api_token = getattr(request, "api_token", None)
    if api_token is not None:
        token_id = api_token.id
        api_token.delete()
        log.info("api token revoked user=%s token=%s", request.auth.id, token_id)
    signed_out = request.user.is_authenticated
    if signed_out:
        logout(request)
    return {"signed_out": signed_out, "token_revoked": api_token is not None}


@router.get("/me", response=schemas.MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    """Return the caller and their memberships with roles."""
    memberships = Membership.objects.filter(user=request.auth).select_related("organization").order_by("organization_id")
    return {
        "user": request.auth,
        "memberships": [
            {"organization_id": m.organization_id, "organization_name": m.organization.name, "role": m.role}
            for m in memberships
        ],
    }
