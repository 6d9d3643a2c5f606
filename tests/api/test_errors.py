"""The API's error bodies: busy database, unexpected errors, bad JSON and unknown paths."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from django.db import connection
from ninja import NinjaAPI
from ninja.testing import TestClient

from dynassign.api import errors
from dynassign.api.errors import describe_validation_errors, field_name


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_locked_sqlite_database_is_503(api_as, make_user, make_campaign, join):
    texter = make_user()
    assignment = join(texter, make_campaign(contacts=5))
    client = api_as(texter)
    assert client.get("/api/me").status_code == 200
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        response = client.post(f"/api/assignments/{assignment.id}/batches", {})
    finally:
        other.execute("ROLLBACK")
        other.close()
        connection.close()

    assert response.status_code == 503
    assert response.json()["error"] == "busy"
    assert "try again" in response.json()["message"]


def _api_with_failing_route() -> NinjaAPI:
    api = NinjaAPI(urls_namespace="failing-test-api")
    errors.install(api)

    @api.get("/explode")
    def explode(request):
        raise RuntimeError("secret detail from deep inside")

    return api


def test_unexpected_error_is_500_without_details(caplog):
    client = TestClient(_api_with_failing_route())

    with caplog.at_level(logging.ERROR, logger="dynassign.api.errors"):
        response = client.get("/explode")

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "path=/explode" in caplog.text
    assert "secret detail from deep inside" in caplog.text


def test_invalid_json_is_400(api_as, make_user):
    client = api_as(make_user())

    response = client.client.post("/api/organizations", "{oops", content_type="application/json", headers=client.headers)

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]


def test_wrong_id_type_names_path_field(api_as, make_user):
    response = api_as(make_user()).get("/api/assignments/first")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "assignment_id"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (("body", "payload", "count"), "count"),
        (("body", "payload", "to_texter_ids", 0), "to_texter_ids.0"),
        (("query", "status"), "status"),
        (("file", "file"), "file"),
        (("body", "payload"), "payload"),
        ((), "request body"),
    ],
)
def test_field_name_drops_source(location, expected):
    assert field_name(location) == expected


def test_validation_message_names_every_field():
    message, fields = describe_validation_errors(
        [
            {"loc": ("body", "payload", "title"), "msg": "Field required"},
            {"loc": ("body", "payload", "batch_size"), "msg": "Input should be greater than or equal to 1"},
        ]
    )

    assert "title: Field required" in message
    assert "batch_size: Input should be greater than or equal to 1" in message
    assert [field["field"] for field in fields] == ["title", "batch_size"]
