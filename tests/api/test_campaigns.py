"""Campaign endpoints: edit, upload, start and archive, texters, reassign, stats, history, contacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Campaign, Contact
from dynassign.organizations.roles import Role

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def texter(organization, make_user):
    return make_user(organization, Role.TEXTER)


def _batch(api_as, user, assignment) -> dict:
    return api_as(user).post(f"/api/assignments/{assignment.id}/batches", {}).json()


def test_campaign_detail_has_settings_and_join_link(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3, settings={"BULK_SEND": True})

    body = api_as(admin).get(f"/api/campaigns/{campaign.id}").json()

    assert body["title"] == campaign.title
    assert body["settings"] == {"BULK_SEND": True}
    assert body["resolved_settings"]["BULK_SEND"] is True
    assert body["resolved_settings"]["DYNAMICASSIGNMENT_BATCHES"] == "finished-replies"
    assert body["join_token"] == campaign.join_token


def test_patch_campaign_changes_only_given_fields(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3, batch_size=10, settings={"BULK_SEND": True})

    response = api_as(admin).patch(
        f"/api/campaigns/{campaign.id}",
        {"title": "Renamed", "settings": {"BULK_SEND": None, "DYNAMICASSIGNMENT_BATCHES": "all-texters,vetted-takeconversations"}},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Renamed"
    assert body["batch_size"] == 10
    assert body["settings"] == {"DYNAMICASSIGNMENT_BATCHES": "all-texters,vetted-takeconversations"}


def test_patch_campaign_can_unset_batch_size(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3, batch_size=10)

    body = api_as(admin).patch(f"/api/campaigns/{campaign.id}", {"batch_size": None}).json()

    assert body["batch_size"] is None


def test_patch_campaign_unknown_strategy_is_422(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3)

    response = api_as(admin).patch(f"/api/campaigns/{campaign.id}", {"settings": {"DYNAMICASSIGNMENT_BATCHES": "nope"}})

    assert response.status_code == 422
    assert "'nope'" in response.json()["message"]


def test_start_archive_unarchive(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3, is_started=False)
    client = api_as(admin)

    started = client.post(f"/api/campaigns/{campaign.id}/start").json()
    archived = client.post(f"/api/campaigns/{campaign.id}/archive").json()
    refused = client.post(f"/api/campaigns/{campaign.id}/start")
    unarchived = client.post(f"/api/campaigns/{campaign.id}/unarchive").json()

    assert started["is_started"] is True
    assert archived["is_archived"] is True
    assert refused.status_code == 409
    assert "unarchive" in refused.json()["message"]
    assert unarchived["is_archived"] is False


def test_rotate_link_invalidates_old_link(api_as, admin, texter, make_campaign):
    campaign = make_campaign(contacts=3)
    old_token = campaign.join_token

    new_token = api_as(admin).post(f"/api/campaigns/{campaign.id}/rotate-link").json()["join_token"]
    old = api_as(texter).post(f"/api/join/{old_token}")
    new = api_as(texter).post(f"/api/join/{new_token}")

    assert new_token != old_token
    assert old.status_code == 404
    assert new.status_code == 201


def test_texters_list_counts_and_limits(api_as, admin, texter, make_campaign, join):
    campaign = make_campaign(contacts=30, batch_size=10, settings={"MAX_CONTACTS_PER_TEXTER": 50})
    assignment = join(texter, campaign)
    _batch(api_as, texter, assignment)

    page = api_as(admin).get(f"/api/campaigns/{campaign.id}/texters").json()

    assert page["next_offset"] is None
    [item] = page["items"]
    assert item["assignment_id"] == assignment.id
    assert item["texter"]["username"] == texter.username
    assert item["role"] == "TEXTER"
    assert item["max_contacts"] == 50
    assert item["counts"]["to_send"] == 10


def test_max_contacts_zero_stops_texter(api_as, admin, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=30, batch_size=10))

    response = api_as(admin).patch(f"/api/assignments/{assignment.id}", {"max_contacts": 0})
    offer = api_as(texter).get(f"/api/assignments/{assignment.id}/offer").json()

    assert response.json() == {"assignment_id": assignment.id, "max_contacts": 0}
    assert offer["count"] == 0
    assert offer["reason"] == "limit_reached"


def test_max_contacts_null_removes_limit(api_as, admin, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=30, settings={"MAX_CONTACTS_PER_TEXTER": 5}))

    body = api_as(admin).patch(f"/api/assignments/{assignment.id}", {"max_contacts": None}).json()

    assert body["max_contacts"] is None
    assignment.refresh_from_db()
    assert assignment.max_contacts is None


def test_max_contacts_negative_is_422(api_as, admin, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=3))

    response = api_as(admin).patch(f"/api/assignments/{assignment.id}", {"max_contacts": -1})

    assert response.status_code == 422
    assert "max_contacts" in response.json()["message"]


def test_texter_cannot_change_own_max_contacts(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=3, settings={"MAX_CONTACTS_PER_TEXTER": 5}))

    response = api_as(texter).patch(f"/api/assignments/{assignment.id}", {"max_contacts": None})

    assert response.status_code == 403
    assignment.refresh_from_db()
    assert assignment.max_contacts == 5


def test_reassign_moves_contacts_between_texters(api_as, admin, organization, make_user, make_campaign, join):
    campaign = make_campaign(contacts=30, batch_size=10)
    first, second = make_user(organization), make_user(organization)
    source = join(first, campaign)
    _batch(api_as, first, source)
    # Reassignment takes contacts in id order, so the lowest id moves.
    moved_contact = Contact.objects.filter(assignment=source).order_by("id").first()

    response = api_as(admin).post(
        f"/api/campaigns/{campaign.id}/reassign",
        {"from_texter_ids": [first.id], "to_texter_ids": [second.id], "statuses": ["needsMessage"], "count": 4},
    )

    assert response.status_code == 200
    assert response.json() == {"moved": 4, "targets": [{"texter_id": second.id, "count": 4}]}
    assert Contact.objects.filter(assignment=source).count() == 6
    assert Contact.objects.filter(assignment__texter=second).count() == 4
    assert api_as(first).get(f"/api/contacts/{moved_contact.id}").status_code == 404
    assert api_as(second).get(f"/api/contacts/{moved_contact.id}").status_code == 200


def test_reassign_to_pool(api_as, admin, texter, make_campaign, join):
    campaign = make_campaign(contacts=30, batch_size=10)
    _batch(api_as, texter, join(texter, campaign))

    body = api_as(admin).post(f"/api/campaigns/{campaign.id}/reassign", {"from_texter_ids": [texter.id]}).json()

    assert body == {"moved": 10, "targets": [{"texter_id": None, "count": 10}]}
    assert api_as(admin).get(f"/api/campaigns/{campaign.id}/stats").json()["pool"] == 30


def test_reassign_unknown_status_is_422(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3)

    response = api_as(admin).post(f"/api/campaigns/{campaign.id}/reassign", {"statuses": ["waiting"]})

    assert response.status_code == 422
    assert "'waiting'" in response.json()["message"]


def test_stats_follow_batches_and_opt_outs(api_as, admin, texter, make_campaign, join):
    campaign = make_campaign(contacts=25, batch_size=10)
    assignment = join(texter, campaign)
    _batch(api_as, texter, assignment)
    held = Contact.objects.filter(assignment=assignment).first()
    api_as(texter).post(f"/api/contacts/{held.id}/opt-out")

    stats = api_as(admin).get(f"/api/campaigns/{campaign.id}/stats").json()

    assert stats["total"] == 25
    assert stats["assigned"] == 10
    assert stats["unassigned"] == 15
    assert stats["pool"] == 15
    assert stats["opted_out"] == 1
    assert stats["needsMessage"] == 25
    assert stats["texters"] == 1
    assert stats["initial_texts_complete"] is False


def test_history_lists_events_and_filters(api_as, admin, organization, make_user, make_campaign, join):
    campaign = make_campaign(contacts=30, batch_size=10, strategies="all-texters")
    first, second = make_user(organization), make_user(organization)
    first_assignment = join(first, campaign)
    _batch(api_as, first, first_assignment)
    _batch(api_as, second, join(second, campaign))
    api_as(first).post(f"/api/assignments/{first_assignment.id}/release", {})
    client = api_as(admin)

    everything = client.get(f"/api/campaigns/{campaign.id}/history").json()
    releases = client.get(f"/api/campaigns/{campaign.id}/history", kind="released").json()
    of_first = client.get(f"/api/campaigns/{campaign.id}/history", texter_id=first.id).json()
    paged = client.get(f"/api/campaigns/{campaign.id}/history", limit=2).json()

    assert [event["kind"] for event in everything["items"]] == ["released", "batch", "batch"]
    assert everything["items"][1]["to_texter_id"] == second.id
    assert everything["items"][1]["strategy"] == "all-texters"
    assert everything["items"][1]["contact_count"] == 10
    assert [event["from_texter_id"] for event in releases["items"]] == [first.id]
    assert sorted(event["kind"] for event in of_first["items"]) == ["batch", "released"]
    assert len(paged["items"]) == 2
    assert paged["next_offset"] == 2


def test_history_unknown_kind_is_422(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=3)

    response = api_as(admin).get(f"/api/campaigns/{campaign.id}/history", kind="moved")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"


def test_contacts_listing_pages_by_id_completely(api_as, admin, texter, make_campaign, join):
    campaign = make_campaign(contacts=25, batch_size=10)
    assignment = join(texter, campaign)
    _batch(api_as, texter, assignment)
    client = api_as(admin)

    seen, after_id = [], 0
    while after_id is not None:
        page = client.get(f"/api/campaigns/{campaign.id}/contacts", limit=7, after_id=after_id).json()
        seen.extend(page["items"])
        after_id = page["next_after_id"]
    assigned = client.get(f"/api/campaigns/{campaign.id}/contacts", assigned="true").json()
    unassigned = client.get(f"/api/campaigns/{campaign.id}/contacts", assigned="false", status="needsMessage").json()

    assert sorted(c["id"] for c in seen) == sorted(Contact.objects.filter(campaign=campaign).values_list("id", flat=True))
    assert len({c["id"] for c in seen}) == 25
    assert {c["assignment_id"] for c in assigned["items"]} == {assignment.id}
    assert len(assigned["items"]) == 10
    assert len(unassigned["items"]) == 15
    assert set(seen[0]) == {"id", "cell", "message_status", "assignment_id", "is_opted_out", "updated_at"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/campaigns/{id}", {"title": "Taken over"}),
        ("post", "/api/campaigns/{id}/start", None),
        ("post", "/api/campaigns/{id}/archive", None),
        ("post", "/api/campaigns/{id}/rotate-link", None),
        ("get", "/api/campaigns/{id}", None),
        ("get", "/api/campaigns/{id}/stats", None),
        ("get", "/api/campaigns/{id}/history", None),
        ("get", "/api/campaigns/{id}/texters", None),
        ("get", "/api/campaigns/{id}/contacts", None),
        ("post", "/api/campaigns/{id}/reassign", {}),
    ],
)
def test_texter_gets_403_on_campaign_admin(api_as, texter, make_campaign, method, path, body):
    campaign = make_campaign(contacts=3)
    client = api_as(texter)
    url = path.format(id=campaign.id)

    response = client.get(url) if method == "get" else getattr(client, method)(url, body)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    campaign.refresh_from_db()
    assert campaign.title != "Taken over"


def test_supervolunteer_reads_but_cannot_edit(api_as, organization, make_user, make_campaign):
    supervolunteer = make_user(organization, Role.SUPERVOLUNTEER)
    campaign = make_campaign(contacts=3)
    client = api_as(supervolunteer)

    assert client.get(f"/api/campaigns/{campaign.id}/stats").status_code == 200
    assert client.patch(f"/api/campaigns/{campaign.id}", {"title": "No"}).status_code == 403


def test_missing_campaign_is_404(api_as, admin):
    response = api_as(admin).get("/api/campaigns/999999")

    assert response.status_code == 404
    assert "999999" in response.json()["message"]


# --- contact upload --------------------------------------------------------------


def test_upload_messy_file_reports_rejected_rows(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=0)
    manifest = json.loads((DATA / "contacts-messy.manifest.json").read_text())

    response = api_as(admin).upload(
        f"/api/campaigns/{campaign.id}/contacts", "contacts.csv", (DATA / "contacts-messy.csv").read_bytes()
    )

    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == manifest["expected_imported"]
    assert body["rejected"] == manifest["expected_rejected"]
    assert {str(row["line"]): row["code"] for row in body["rows"]} == manifest["rejected_lines"]
    assert all(row["message"] for row in body["rows"])
    assert Contact.objects.filter(campaign=campaign).count() == manifest["expected_imported"]


def test_upload_twice_skips_duplicates(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=0)
    content = b"firstName,lastName,cell\r\nAda,Lovelace,2125550100\r\nAlan,Turing,(212) 201-0001\r\n"
    client = api_as(admin)

    client.upload(f"/api/campaigns/{campaign.id}/contacts", "a.csv", content)
    again = client.upload(f"/api/campaigns/{campaign.id}/contacts", "a.csv", content).json()

    assert again["imported"] == 0
    assert {row["code"] for row in again["rows"]} == {"duplicate_cell"}
    assert Contact.objects.filter(campaign=campaign).count() == 2


def test_upload_without_cell_column_is_422(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=0)

    response = api_as(admin).upload(f"/api/campaigns/{campaign.id}/contacts", "a.csv", b"firstName,lastName\r\nA,B\r\n")

    assert response.status_code == 422
    assert "cell" in response.json()["message"]
    assert Contact.objects.filter(campaign=campaign).count() == 0


def test_upload_in_latin1_is_422(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=0)
    content = "firstName,lastName,cell\r\nJos\u00e9,Pe\u00f1a,2125550100\r\n".encode("latin-1")

    response = api_as(admin).upload(f"/api/campaigns/{campaign.id}/contacts", "a.csv", content)

    assert response.status_code == 422
    assert "UTF-8" in response.json()["message"]


def test_upload_without_file_is_422(api_as, admin, make_campaign):
    campaign = make_campaign(contacts=0)

    response = api_as(admin).post(f"/api/campaigns/{campaign.id}/contacts", {})

    assert response.status_code == 422
    assert "file" in response.json()["message"]


def test_texter_cannot_upload(api_as, texter, make_campaign):
    campaign = make_campaign(contacts=0)

    response = api_as(texter).upload(
        f"/api/campaigns/{campaign.id}/contacts", "a.csv", b"firstName,lastName,cell\r\nA,B,2125550100\r\n"
    )

    assert response.status_code == 403
    assert not Contact.objects.filter(campaign=campaign).exists()


def test_unstarted_campaign_from_api_refuses_joins(api_as, admin, texter, organization):
    client = api_as(admin)
    created = client.post(
        f"/api/organizations/{organization.id}/campaigns",
        {"title": "Fresh", "batch_size": 5, "use_dynamic_assignment": True},
    ).json()

    before_start = api_as(texter).post(f"/api/join/{created['join_token']}")
    client.post(f"/api/campaigns/{created['id']}/start")
    after_start = api_as(texter).post(f"/api/join/{created['join_token']}")

    assert before_start.status_code == 404
    assert after_start.status_code == 201
    assert Assignment.objects.filter(campaign_id=created["id"]).count() == 1
    assert Campaign.objects.get(id=created["id"]).is_started
