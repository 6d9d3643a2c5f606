"""The fake message service endpoints: contacts' replies and the outbox."""

from __future__ import annotations

import pytest

from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.organizations.models import Organization
from dynassign.organizations.roles import Role


@pytest.fixture
def texting(api_as, organization, make_user, make_campaign, join):
    """A texter who got a batch of 3 and sent the initial message to each contact."""
    texter = make_user(organization, Role.TEXTER)
    campaign = make_campaign(contacts=5, batch_size=3)
    assignment = join(texter, campaign)
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    contacts = list(Contact.objects.filter(assignment=assignment).order_by("id"))
    for contact in contacts:
        client.post(f"/api/contacts/{contact.id}/messages", {"initial": True})
    return campaign, texter, contacts


def test_reply_waits_for_texter(api_as, admin, texting):
    _, _, contacts = texting

    response = api_as(admin).post("/api/fake/replies", {"contact_id": contacts[0].id, "text": "Yes, count me in"})

    assert response.status_code == 200
    body = response.json()
    assert body["contact_status"] == "needsResponse"
    assert body["message"]["direction"] == "inbound"
    assert body["message"]["text"] == "Yes, count me in"
    contacts[0].refresh_from_db()
    assert contacts[0].message_status == MessageStatus.NEEDS_RESPONSE


def test_stop_reply_opts_out(api_as, admin, texting):
    _, _, contacts = texting

    body = api_as(admin).post("/api/fake/replies", {"contact_id": contacts[1].id, "text": " stop "}).json()

    assert body["is_opted_out"] is True


def test_texter_cannot_fake_replies(api_as, texting):
    _, texter, contacts = texting

    response = api_as(texter).post("/api/fake/replies", {"contact_id": contacts[0].id, "text": "hi"})

    assert response.status_code == 403
    assert contacts[0].messages.count() == 1


def test_reply_to_missing_contact_is_404(api_as, admin):
    response = api_as(admin).post("/api/fake/replies", {"contact_id": 987654, "text": "hi"})

    assert response.status_code == 404
    assert "987654" in response.json()["message"]


def test_empty_reply_is_422(api_as, admin, texting):
    _, _, contacts = texting

    response = api_as(admin).post("/api/fake/replies", {"contact_id": contacts[0].id, "text": ""})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "text"


def test_outbox_lists_sent_messages_since_id(api_as, admin, texting):
    campaign, _, contacts = texting
    client = api_as(admin)

    first = client.get("/api/fake/outbox", campaign_id=campaign.id).json()
    rest = client.get("/api/fake/outbox", campaign_id=campaign.id, since_id=first["next_since_id"]).json()
    everywhere = client.get("/api/fake/outbox").json()

    assert [item["contact_id"] for item in first["items"]] == [contact.id for contact in contacts]
    assert first["items"][0]["text"] == f"Hi {contacts[0].first_name}!"
    assert first["items"][0]["cell"] == contacts[0].cell
    assert rest["items"] == []
    assert rest["next_since_id"] == first["next_since_id"]
    assert len(everywhere["items"]) == 3


def test_outbox_leaves_out_inbound(api_as, admin, texting):
    campaign, _, contacts = texting
    client = api_as(admin)
    client.post("/api/fake/replies", {"contact_id": contacts[0].id, "text": "hello"})

    items = client.get("/api/fake/outbox", campaign_id=campaign.id).json()["items"]

    assert len(items) == 3


def test_outbox_refuses_texter(api_as, texting):
    campaign, texter, _ = texting
    client = api_as(texter)

    assert client.get("/api/fake/outbox", campaign_id=campaign.id).status_code == 403
    assert client.get("/api/fake/outbox").status_code == 403


def test_outbox_of_other_organization_is_404(api_as, make_user, texting):
    campaign, _, _ = texting
    stranger = make_user(Organization.objects.create(name="Other"), Role.OWNER)

    assert api_as(stranger).get("/api/fake/outbox", campaign_id=campaign.id).status_code == 404
    assert api_as(stranger).get("/api/fake/outbox").json()["items"] == []
