"""The API over real HTTP: a live server on 127.0.0.1 driven by httpx."""

from __future__ import annotations

import threading

import httpx
import pytest

CONTACTS_CSV = (
    b"firstName,lastName,cell,zip\r\n"
    b"Ada,Lovelace,2125550100,10001\r\n"
    b"Alan,Turing,(212) 201-0001,10001\r\n"
    b"Grace,Hopper,212.201.0002,10001\r\n"
    b"Bad,Number,12345,10001\r\n"
)


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=f"{live_server.url}/api", timeout=30) as client:
        yield client


def _sign_up(http: httpx.Client, username: str) -> dict[str, str]:
    response = http.post("/auth/signup", json={"username": username, "password": "long-enough-1"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_organizer_and_volunteer_over_http(http):
    organizer = _sign_up(http, "organizer")
    organization = http.post("/organizations", json={"name": "Live"}, headers=organizer).json()
    campaign = http.post(
        f"/organizations/{organization['id']}/campaigns",
        json={"title": "Live campaign", "script": "Hi {firstName}!", "batch_size": 2, "use_dynamic_assignment": True},
        headers=organizer,
    ).json()
    report = http.post(
        f"/campaigns/{campaign['id']}/contacts",
        files={"file": ("contacts.csv", CONTACTS_CSV, "text/csv")},
        headers=organizer,
    ).json()
    http.post(f"/campaigns/{campaign['id']}/start", headers=organizer)

    volunteer = _sign_up(http, "volunteer")
    joined = http.post(campaign["join_path"].removeprefix("/api"), headers=volunteer)
    assignment_id = joined.json()["id"]
    batch = http.post(f"/assignments/{assignment_id}/batches", json={}, headers=volunteer).json()
    contacts = http.get(f"/assignments/{assignment_id}/contacts", headers=volunteer).json()["items"]
    sent = http.post(f"/contacts/{contacts[0]['id']}/messages", json={"initial": True}, headers=volunteer).json()
    outbox = http.get("/fake/outbox", params={"campaign_id": campaign["id"]}, headers=organizer).json()
    stats = http.get(f"/campaigns/{campaign['id']}/stats", headers=organizer).json()

    assert report["imported"] == 3
    assert [row["line"] for row in report["rows"]] == [5]
    assert joined.status_code == 201
    assert batch["assigned"] == 2
    assert batch["offer"]["reason"] == "batch_unfinished"
    assert sent["status"] == "messaged"
    assert [item["text"] for item in outbox["items"]] == [f"Hi {contacts[0]['first_name']}!"]
    assert stats["assigned"] == 2
    assert stats["pool"] == 1


def test_session_sign_in_over_http(http):
    _sign_up(http, "sessionuser")

    login = http.post("/auth/login", json={"username": "sessionuser", "password": "long-enough-1"})
    csrf_token = login.json()["csrf_token"]
    without_csrf = http.post("/organizations", json={"name": "No token"})
    with_csrf = http.post("/organizations", json={"name": "With token"}, headers={"X-CSRFToken": csrf_token})
    me = http.get("/me")

    assert login.status_code == 200
    assert without_csrf.status_code == 403
    assert with_csrf.status_code == 201
    assert [m["organization_name"] for m in me.json()["memberships"]] == ["With token"]


def test_no_credentials_over_http_is_401(http):
    response = http.get("/assignments")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")


def test_double_submitted_batch_over_http(http, live_server):
    organizer = _sign_up(http, "doubleorganizer")
    organization = http.post("/organizations", json={"name": "Double"}, headers=organizer).json()
    campaign = http.post(
        f"/organizations/{organization['id']}/campaigns",
        json={"title": "Double click", "batch_size": 10, "use_dynamic_assignment": True},
        headers=organizer,
    ).json()
    rows = "".join(f"First{n},Last{n},212201{n:04d}\r\n" for n in range(25))
    http.post(
        f"/campaigns/{campaign['id']}/contacts",
        files={"file": ("contacts.csv", ("firstName,lastName,cell\r\n" + rows).encode(), "text/csv")},
        headers=organizer,
    )
    http.post(f"/campaigns/{campaign['id']}/start", headers=organizer)
    volunteer = _sign_up(http, "doubleclicker")
    assignment_id = http.post(campaign["join_path"].removeprefix("/api"), headers=volunteer).json()["id"]
    barrier = threading.Barrier(2)
    assigned: list[int] = []

    def click() -> None:
        with httpx.Client(base_url=f"{live_server.url}/api", timeout=30) as client:
            barrier.wait()
            response = client.post(f"/assignments/{assignment_id}/batches", json={}, headers=volunteer)
            assigned.append(response.json()["assigned"])

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    stats = http.get(f"/campaigns/{campaign['id']}/stats", headers=organizer).json()

    assert sorted(assigned) == [0, 10]
    assert stats["assigned"] == 10
    assert stats["pool"] == 15
