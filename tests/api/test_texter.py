"""Texter endpoints: joining, batches, release, contacts and messages."""

from __future__ import annotations

import pytest
from django.db import connection

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.messaging.sending import receive_message
from dynassign.organizations.roles import Role
from tests.fixtures import add_contacts, make_cells


@pytest.fixture
def texter(organization, make_user):
    return make_user(organization, Role.TEXTER)


def _send_all(client, assignment_id: int) -> None:
    contacts = client.get(f"/api/assignments/{assignment_id}/contacts", status="needsMessage", limit=1000).json()
    for contact in contacts["items"]:
        response = client.post(f"/api/contacts/{contact['id']}/messages", {"initial": True})
        assert response.status_code == 200, response.json()


# --- joining -------------------------------------------------------------------


def test_join_creates_assignment(api_as, texter, make_campaign):
    campaign = make_campaign(contacts=5)

    response = api_as(texter).post(f"/api/join/{campaign.join_token}")

    assert response.status_code == 201
    body = response.json()
    assert body["campaign_id"] == campaign.id
    assert body["campaign_title"] == campaign.title
    assert body["offer"]["count"] == 5
    assert Assignment.objects.filter(campaign=campaign, texter=texter).count() == 1


def test_join_with_wrong_token_is_404(api_as, texter, make_campaign):
    campaign = make_campaign(contacts=5)

    response = api_as(texter).post("/api/join/not-the-token")

    assert response.status_code == 404
    assert response.json()["error"] == "invalid_link"
    assert not Assignment.objects.filter(campaign=campaign).exists()


def test_join_full_campaign_is_409(api_as, organization, make_user, make_campaign):
    campaign = make_campaign(contacts=5, settings={"MAX_TEXTERS_PER_CAMPAIGN": 1})
    first, second = make_user(organization), make_user(organization)
    first_client = api_as(first)
    joined = first_client.post(f"/api/join/{campaign.join_token}")

    refused = api_as(second).post(f"/api/join/{campaign.join_token}")
    again = first_client.post(f"/api/join/{campaign.join_token}")

    assert refused.status_code == 409
    assert refused.json()["error"] == "campaign_full"
    assert "limit of 1 texters" in refused.json()["message"]
    assert again.status_code == 200
    assert again.json()["id"] == joined.json()["id"]
    assert Assignment.objects.filter(campaign=campaign).count() == 1


def test_join_archived_campaign_is_404(api_as, texter, make_campaign):
    campaign = make_campaign(contacts=5, is_archived=True)

    response = api_as(texter).post(f"/api/join/{campaign.join_token}")

    assert response.status_code == 404
    assert response.json()["error"] == "invalid_link"


def test_join_makes_newcomer_a_texter(api_as, make_user, make_campaign, organization):
    newcomer = make_user()
    campaign = make_campaign(contacts=1)

    api_as(newcomer).post(f"/api/join/{campaign.join_token}")

    memberships = api_as(newcomer).get("/api/me").json()["memberships"]
    assert memberships == [{"organization_id": organization.id, "organization_name": organization.name, "role": "TEXTER"}]


# --- the assignment list and its texter UI settings ------------------------------


def test_assignments_list_only_mine(api_as, texter, make_user, organization, make_campaign, join):
    mine = join(texter, make_campaign(contacts=2))
    join(make_user(organization), make_campaign(contacts=2))

    response = api_as(texter).get("/api/assignments")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [mine.id]


def test_request_label_changes_after_first_batch(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=30, batch_size=10))
    client = api_as(texter)

    before = client.get(f"/api/assignments/{assignment.id}").json()["ui"]
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    after = client.get(f"/api/assignments/{assignment.id}").json()["ui"]

    assert before["REQUEST_LABEL"] == "Start texting"
    assert after["REQUEST_LABEL"] == "Send more texts"
    assert after["REQUEST_MESSAGE"]
    assert after["NOTHING_TO_DO_MESSAGE"]
    assert after["DYNAMIC_ASSIGNMENT_CONTROLS"] is True


def test_take_conversations_shown_only_to_vetted(api_as, organization, make_user, make_campaign, join):
    campaign = make_campaign(contacts=5, settings={"TAKE_CONVERSATIONS": True, "TAKE_CONVERSATIONS_BATCH_SIZE": 7})
    texter = make_user(organization, Role.TEXTER)
    vetted = make_user(organization, Role.VETTED_TEXTER)

    texter_ui = api_as(texter).get(f"/api/assignments/{join(texter, campaign).id}").json()["ui"]
    vetted_ui = api_as(vetted).get(f"/api/assignments/{join(vetted, campaign).id}").json()["ui"]

    assert texter_ui["TAKE_CONVERSATIONS"] is False
    assert texter_ui["TAKE_CONVERSATIONS_BATCH_SIZE"] is None
    assert vetted_ui["TAKE_CONVERSATIONS"] is True
    assert vetted_ui["TAKE_CONVERSATIONS_BATCH_SIZE"] == 7
    assert vetted_ui["TAKE_CONVERSATIONS_BATCH_TYPE"] == "vetted-takeconversations"


def test_release_conversations_vetted_only_hidden_from_texter(api_as, texter, make_campaign, join):
    campaign = make_campaign(
        contacts=5, settings={"RELEASE_CONVERSATIONS": True, "RELEASE_CONVERSATIONS_VETTED_ONLY": True}
    )

    ui = api_as(texter).get(f"/api/assignments/{join(texter, campaign).id}").json()["ui"]

    assert ui["RELEASE_CONTACTS"] is True
    assert ui["RELEASE_CONVERSATIONS"] is False


def test_other_texters_assignment_is_404(api_as, texter, make_user, organization, make_campaign, join):
    other = join(make_user(organization), make_campaign(contacts=5))
    client = api_as(texter)

    assert client.get(f"/api/assignments/{other.id}").status_code == 404
    assert client.post(f"/api/assignments/{other.id}/batches", {}).status_code == 404
    assert client.get(f"/api/assignments/{other.id}/contacts").status_code == 404


# --- batches ---------------------------------------------------------------------


def test_batch_assigns_and_returns_counts(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25, batch_size=10))

    response = api_as(texter).post(f"/api/assignments/{assignment.id}/batches", {})

    assert response.status_code == 200
    body = response.json()
    assert body["found"] is True
    assert body["assigned"] == 10
    assert body["counts"]["to_send"] == 10
    assert body["counts"]["held"] == 10
    assert body["offer"]["count"] == 0
    assert body["offer"]["reason"] == "batch_unfinished"
    assert body["offer"]["reason_message"] == "Finish sending your current batch first."


def test_batch_count_beyond_batch_size_is_cut(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25, batch_size=10))

    body = api_as(texter).post(f"/api/assignments/{assignment.id}/batches", {"count": 500}).json()

    assert body["assigned"] == 10


def test_batch_count_zero_is_422_naming_count(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25))

    response = api_as(texter).post(f"/api/assignments/{assignment.id}/batches", {"count": 0})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "count"
    assert "count" in response.json()["message"]


def test_batch_count_not_a_number_is_422(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25))

    response = api_as(texter).post(f"/api/assignments/{assignment.id}/batches", {"count": "lots"})

    assert response.status_code == 422
    assert "count" in response.json()["message"]


def test_replies_pending_hides_offer(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=30, batch_size=10))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    _send_all(client, assignment.id)
    replied = Contact.objects.filter(assignment=assignment).first()
    receive_message(replied.id, "Who is this?")

    waiting = client.get(f"/api/assignments/{assignment.id}/offer").json()
    client.post(f"/api/contacts/{replied.id}/messages", {"text": "A volunteer!"})
    answered = client.get(f"/api/assignments/{assignment.id}/offer").json()

    assert waiting["count"] == 0
    assert waiting["reason"] == "replies_pending"
    assert answered["count"] == 10
    assert answered["reason"] is None


def test_offer_for_unknown_batch_type(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=30))

    offer = api_as(texter).get(f"/api/assignments/{assignment.id}/offer", batch_type="no-such-strategy").json()

    assert offer["count"] == 0
    assert offer["reason"] == "unknown_batch_type"


def test_limit_reached_reason(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=30, batch_size=10, settings={"MAX_CONTACTS_PER_TEXTER": 0}))

    body = api_as(texter).post(f"/api/assignments/{assignment.id}/batches", {}).json()

    assert body["assigned"] == 0
    assert body["found"] is False
    assert body["offer"]["reason"] == "limit_reached"


def test_take_conversations_refused_when_off(api_as, organization, make_user, make_campaign, join):
    vetted = make_user(organization, Role.VETTED_TEXTER)
    assignment = join(vetted, make_campaign(contacts=5))

    response = api_as(vetted).post(f"/api/assignments/{assignment.id}/take-conversations")

    assert response.status_code == 403
    assert "TAKE_CONVERSATIONS" in response.json()["message"]


def test_take_conversations_takes_unheld_replies(api_as, organization, make_user, make_campaign, join):
    campaign = make_campaign(
        contacts=0,
        batch_size=10,
        strategies="finished-replies,vetted-takeconversations",
        settings={"TAKE_CONVERSATIONS": True, "TAKE_CONVERSATIONS_BATCH_SIZE": 3},
    )
    add_contacts(campaign, make_cells(5, start=500), status=MessageStatus.NEEDS_RESPONSE)
    add_contacts(campaign, make_cells(4, start=600))
    vetted = make_user(organization, Role.VETTED_TEXTER)
    assignment = join(vetted, campaign)

    body = api_as(vetted).post(f"/api/assignments/{assignment.id}/take-conversations").json()

    assert body["assigned"] == 3
    assert body["counts"]["replies"] == 3
    assert Contact.objects.filter(assignment=assignment, message_status=MessageStatus.NEEDS_RESPONSE).count() == 3


# --- release ----------------------------------------------------------------------


def test_release_returns_fresh_counts_and_is_idempotent(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25, batch_size=10))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    first_contact = Contact.objects.filter(assignment=assignment).order_by("id").first()
    client.post(f"/api/contacts/{first_contact.id}/messages", {"initial": True})

    first = client.post(f"/api/assignments/{assignment.id}/release", {"conversations": False}).json()
    second = client.post(f"/api/assignments/{assignment.id}/release", {}).json()

    assert first["released"] == 9
    assert first["counts"]["to_send"] == 0
    assert first["counts"]["held"] == 1
    assert second["released"] == 0
    assert second["counts"]["held"] == 1


def test_release_conversations_refused_when_off(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25, batch_size=10))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})

    response = client.post(f"/api/assignments/{assignment.id}/release", {"conversations": True})

    assert response.status_code == 403
    assert "conversations" in response.json()["message"]
    assert Contact.objects.filter(assignment=assignment).count() == 10


# --- contacts and messages ----------------------------------------------------------


def test_contact_list_filters_and_pages(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=25, batch_size=10))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    _send_all(client, assignment.id)
    Contact.objects.filter(id=Contact.objects.filter(assignment=assignment).order_by("id").first().id).update(
        message_status=MessageStatus.NEEDS_RESPONSE
    )

    first_page = client.get(f"/api/assignments/{assignment.id}/contacts", limit=6).json()
    second_page = client.get(f"/api/assignments/{assignment.id}/contacts", limit=6, offset=6).json()
    replies = client.get(f"/api/assignments/{assignment.id}/contacts", status="needsResponse").json()

    assert len(first_page["items"]) == 6
    assert first_page["next_offset"] == 6
    assert len(second_page["items"]) == 4
    assert second_page["next_offset"] is None
    assert {c["id"] for c in first_page["items"]}.isdisjoint(c["id"] for c in second_page["items"])
    assert [c["message_status"] for c in replies["items"]] == ["needsResponse"]


def test_contact_list_rejects_unknown_status(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=5))

    response = api_as(texter).get(f"/api/assignments/{assignment.id}/contacts", status="replied")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    assert "needsMessage" in response.json()["message"]


def test_contact_detail_has_script_and_messages(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=5, batch_size=5))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    contact = Contact.objects.filter(assignment=assignment).order_by("id").first()
    client.post(f"/api/contacts/{contact.id}/messages", {"initial": True})
    receive_message(contact.id, "Hello back")

    body = client.get(f"/api/contacts/{contact.id}").json()

    assert body["script"] == f"Hi {contact.first_name}!"
    assert [m["direction"] for m in body["messages"]] == ["outbound", "inbound"]
    assert body["messages"][0]["text"] == f"Hi {contact.first_name}!"
    assert body["message_status"] == "needsResponse"


def test_contact_of_another_texter_is_404(api_as, texter, organization, make_user, make_campaign, join):
    other = make_user(organization)
    assignment = join(other, make_campaign(contacts=5, batch_size=5))
    api_as(other).post(f"/api/assignments/{assignment.id}/batches", {})
    contact = Contact.objects.filter(assignment=assignment).first()
    client = api_as(texter)

    assert client.get(f"/api/contacts/{contact.id}").status_code == 404
    assert client.post(f"/api/contacts/{contact.id}/messages", {"text": "hi"}).status_code == 404
    assert client.post(f"/api/contacts/{contact.id}/close").status_code == 404


def test_initial_message_goes_out_once(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=5, batch_size=5))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    contact = Contact.objects.filter(assignment=assignment).first()

    first = client.post(f"/api/contacts/{contact.id}/messages", {"initial": True}).json()
    second = client.post(f"/api/contacts/{contact.id}/messages", {"initial": True}).json()

    assert first["sent"] is True
    assert first["status"] == "messaged"
    assert second["sent"] is False
    assert second["message"] is None
    assert contact.messages.count() == 1


def test_opt_out_follows_cell_and_blocks_sending(api_as, texter, make_campaign, join):
    cells = make_cells(3, start=900)
    campaign = make_campaign(batch_size=3, cells=cells)
    other_campaign = make_campaign(batch_size=3, cells=cells[:1])
    assignment = join(texter, campaign)
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    contact = Contact.objects.get(campaign=campaign, cell=cells[0])

    opted = client.post(f"/api/contacts/{contact.id}/opt-out").json()
    refused = client.post(f"/api/contacts/{contact.id}/messages", {"initial": True})

    assert opted["opted_out_contacts"] == 2
    assert Contact.objects.get(campaign=other_campaign).is_opted_out is True
    assert refused.status_code == 409
    assert refused.json()["error"] == "opted_out"


def test_close_contact(api_as, texter, make_campaign, join):
    assignment = join(texter, make_campaign(contacts=2, batch_size=2))
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    contact = Contact.objects.filter(assignment=assignment).first()

    response = client.post(f"/api/contacts/{contact.id}/close")

    assert response.json() == {"status": "closed"}
    contact.refresh_from_db()
    assert contact.message_status == MessageStatus.CLOSED


def test_empty_message_is_422(api_as, texter, make_campaign, join):
    campaign = make_campaign(contacts=2, batch_size=2)
    campaign.script = ""
    campaign.save(update_fields=["script"])
    assignment = join(texter, campaign)
    client = api_as(texter)
    client.post(f"/api/assignments/{assignment.id}/batches", {})
    contact = Contact.objects.filter(assignment=assignment).first()

    response = client.post(f"/api/contacts/{contact.id}/messages", {"initial": True})

    assert response.status_code == 422
    assert "empty" in response.json()["message"]


@pytest.mark.postgres_only
def test_batch_size_holds_with_nested_loop_plan(api_as, texter, make_campaign, join):
    campaign = make_campaign(contacts=0, batch_size=10)
    assignment = join(texter, campaign)
    with connection.cursor() as cursor:
        # Empty-table statistics without hash, merge or materialize steps
        # force the nested-loop plan that PostgreSQL chose with stale statistics.
        cursor.execute("ANALYZE campaigns_contact")
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_material", "enable_hashagg", "enable_sort"):
            cursor.execute(f"SET {setting} = off")
    add_contacts(campaign, make_cells(25, start=7000))
    try:
        body = api_as(texter).post(f"/api/assignments/{assignment.id}/batches", {}).json()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ALL")

    assert body["assigned"] == 10
    assert Contact.objects.filter(assignment=assignment).count() == 10
