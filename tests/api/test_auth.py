"""Sign-up, session and token sign-in, sign-out, and /me."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dynassign.organizations.models import ApiToken
from dynassign.organizations.roles import Role
from tests.api.conftest import JsonClient

PASSWORD = "test-password-1"


def test_me_without_credentials_is_401(anonymous):
    response = anonymous.get("/api/me")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Bearer" in response.json()["message"]


def test_unsafe_request_without_credentials_is_401_not_csrf(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/assignments/1/batches", "{}", content_type="application/json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_bad_token_is_401(db):
    response = JsonClient("da_not-a-real-token").get("/api/me")

    assert response.status_code == 401
    assert "invalid or revoked" in response.json()["message"]


def test_token_signs_in(api_as, organization, make_user):
    user = make_user(organization, Role.VETTED_TEXTER)

    response = api_as(user).get("/api/me")

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == user.username
    assert body["memberships"] == [
        {"organization_id": organization.id, "organization_name": organization.name, "role": "VETTED_TEXTER"}
    ]


def test_token_of_inactive_user_is_401(api_as, make_user):
    user = make_user()
    client = api_as(user)
    user.is_active = False
    user.save()

    assert client.get("/api/me").status_code == 401


def test_token_endpoint_issues_working_token(anonymous, make_user):
    user = make_user()

    response = anonymous.post("/api/auth/token", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    assert JsonClient(token).get("/api/me").json()["user"]["id"] == user.id


def test_token_endpoint_rejects_wrong_password(anonymous, make_user):
    user = make_user()

    response = anonymous.post("/api/auth/token", {"username": user.username, "password": "wrong-password"})

    assert response.status_code == 401
    assert response.json()["message"].startswith("Invalid username or password")


def test_signup_returns_user_and_token(anonymous):
    response = anonymous.post(
        "/api/auth/signup", {"username": "volunteer1", "password": "long-enough-1", "first_name": "Val"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "volunteer1"
    assert body["user"]["first_name"] == "Val"
    me = JsonClient(body["token"]).get("/api/me").json()
    assert me["user"]["id"] == body["user"]["id"]
    assert me["memberships"] == []


def test_signup_rejects_taken_username(anonymous, make_user):
    make_user(username="taken")

    response = anonymous.post("/api/auth/signup", {"username": "TAKEN", "password": "long-enough-1"})

    assert response.status_code == 409
    assert response.json()["error"] == "username_taken"
    assert "'TAKEN'" in response.json()["message"]


def test_signup_rejects_short_password(anonymous):
    response = anonymous.post("/api/auth/signup", {"username": "shorty", "password": "short"})

    assert response.status_code == 422
    assert "password" in response.json()["message"]
    assert "at least 8 characters" in response.json()["message"]


def test_signup_rejects_invalid_username(anonymous):
    response = anonymous.post("/api/auth/signup", {"username": "no spaces please", "password": "long-enough-1"})

    assert response.status_code == 422
    assert "'no spaces please'" in response.json()["message"]


def test_signup_missing_field_names_it(anonymous):
    response = anonymous.post("/api/auth/signup", {"username": "nopassword"})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_value"
    assert "password" in body["message"]
    assert body["errors"][0]["field"] == "password"


def _session_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/auth/login", json.dumps({"username": user.username, "password": PASSWORD}), content_type="application/json"
    )
    assert response.status_code == 200
    return client, response.json()["csrf_token"]


def test_session_signs_in(make_user):
    user = make_user()
    client, _ = _session_client(user)

    response = client.get("/api/me")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id


def test_session_post_needs_csrf_token(organization, make_user):
    user = make_user()
    client, csrf_token = _session_client(user)
    body = json.dumps({"name": "Session org"})

    refused = client.post("/api/organizations", body, content_type="application/json")
    accepted = client.post("/api/organizations", body, content_type="application/json", headers={"X-CSRFToken": csrf_token})

    assert refused.status_code == 403
    assert "X-CSRFToken" in refused.json()["message"]
    assert accepted.status_code == 201


def test_login_rejects_wrong_password(make_user):
    user = make_user()

    response = Client().post(
        "/api/auth/login", json.dumps({"username": user.username, "password": "nope"}), content_type="application/json"
    )

    assert response.status_code == 401


def test_logout_ends_session(make_user):
    user = make_user()
    client, csrf_token = _session_client(user)

    response = client.post("/api/auth/logout", "{}", content_type="application/json", headers={"X-CSRFToken": csrf_token})

    assert response.status_code == 200
    assert response.json() == {"signed_out": True, "token_revoked": False}
    assert client.get("/api/me").status_code == 401


def test_logout_with_token_revokes_it(api_as, make_user):
    user = make_user()
    client = api_as(user)

    response = client.post("/api/auth/logout")

    assert response.json() == {"signed_out": False, "token_revoked": True}
    assert client.get("/api/me").status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json"])
def test_docs_open_without_sign_in(anonymous, path):
    assert anonymous.get(path).status_code == 200


def test_openapi_document_types_bodies(anonymous):
    document = anonymous.get("/api/openapi.json").json()

    batch = document["paths"]["/api/assignments/{assignment_id}/batches"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchIn")
    assert "BearerToken" in document["components"]["securitySchemes"]
