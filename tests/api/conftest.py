"""API test helpers: a JSON client signed in with a real API token."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from django.test import Client

from dynassign.organizations.models import ApiToken


class JsonClient:
    """Django's test client sending and reading JSON, signed in by bearer token when given one."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        query = {key: value for key, value in params.items() if value is not None}
        return self.client.get(path, query, headers=self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        data = json.dumps(body if body is not None else {})
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(path, json.dumps(body), content_type="application/json", headers=self.headers)

    def upload(self, path: str, name: str, content: bytes) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(name, content, content_type="text/csv")
        return self.client.post(path, {"file": upload}, headers=self.headers)


@pytest.fixture
def api_as(db) -> Callable[[Any], JsonClient]:
    """Return a client acting as ``user`` through a freshly issued API token."""

    def make(user: Any) -> JsonClient:
        _, raw = ApiToken.issue(user, name="test")
        return JsonClient(raw)

    return make


@pytest.fixture
def anonymous(db) -> JsonClient:
    return JsonClient()
