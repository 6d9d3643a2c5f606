"""Texter pages through Django's test client: join refusals, to-do controls, texting, release."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.messaging.sending import receive_message
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role
from tests.fixtures import add_contacts, make_cells

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def test_join_requires_sign_in(client, make_campaign):
    campaign = make_campaign(contacts=3)
    response = client.get(reverse("join", args=[campaign.join_token]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/join/")


def test_join_creates_assignment_and_lands_in_campaign(client, make_campaign, make_user):
    campaign = make_campaign(contacts=3)
    texter = make_user()
    response = signed_in(client, texter).get(reverse("join", args=[campaign.join_token]))
    assignment = Assignment.objects.get(campaign=campaign, texter=texter)
    assert response.status_code == 302
    assert response["Location"] == reverse("texting", args=[assignment.id])
    assert Membership.objects.get(user=texter, organization=campaign.organization).role == Role.TEXTER


def test_join_with_rotated_link_is_404(client, make_campaign, make_user):
    campaign = make_campaign(contacts=3)
    old_token = campaign.join_token
    campaign.join_token = "rotated-token-value"
    campaign.save()
    response = signed_in(client, make_user()).get(reverse("join", args=[old_token]))
    assert response.status_code == 404
    assert b"This link does not work" in response.content
    assert b"invalid or no longer active" in response.content


def test_join_archived_campaign_is_404_and_says_ended(client, make_campaign, make_user):
    campaign = make_campaign(contacts=3, is_archived=True)
    response = signed_in(client, make_user()).get(reverse("join", args=[campaign.join_token]))
    assert response.status_code == 404
    assert b"This campaign has ended" in response.content


def test_join_full_campaign_is_409(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=3, settings={"MAX_TEXTERS_PER_CAMPAIGN": 1})
    join(make_user(), campaign)
    response = signed_in(client, make_user()).get(reverse("join", args=[campaign.join_token]))
    assert response.status_code == 409
    assert b"This campaign is full" in response.content


def test_join_suspended_member_is_403(client, make_campaign, make_user, organization):
    campaign = make_campaign(contacts=3)
    suspended = make_user(organization, Role.SUSPENDED)
    response = signed_in(client, suspended).get(reverse("join", args=[campaign.join_token]))
    assert response.status_code == 403
    assert b"suspended" in response.content
    assert not Assignment.objects.filter(texter=suspended).exists()


def test_todo_shows_start_texting_before_first_batch(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=5, batch_size=2)
    texter = make_user()
    join(texter, campaign)
    page = signed_in(client, texter).get(reverse("home")).content.decode()
    assert "Start texting" in page
    assert campaign.title in page


def test_todo_uses_configured_label_after_first_batch(client, make_campaign, make_user, join):
    campaign = make_campaign(
        contacts=5, batch_size=2, settings={"REQUEST_LABEL": "Give me more", "REQUEST_MESSAGE": "Keep going!"}
    )
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    Contact.objects.filter(assignment=assignment).update(message_status=MessageStatus.MESSAGED)
    page = client.get(reverse("home")).content.decode()
    assert "Give me more" in page
    assert "Keep going!" in page
    assert "Start texting" not in page


def test_todo_hides_button_and_explains_unfinished_batch(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=5, batch_size=2)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    page = client.get(reverse("home")).content.decode()
    assert "request-button" not in page
    assert "Finish sending your current batch first." in page


def test_todo_shows_nothing_to_do_message(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=0, settings={"NOTHING_TO_DO_MESSAGE": "All quiet, thanks!"})
    texter = make_user()
    join(texter, campaign)
    page = signed_in(client, texter).get(reverse("home")).content.decode()
    assert "All quiet, thanks!" in page
    assert "request-button" not in page


def test_todo_without_dynamic_controls_shows_no_request(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=5, settings={"DYNAMIC_ASSIGNMENT_CONTROLS": False})
    texter = make_user()
    join(texter, campaign)
    page = signed_in(client, texter).get(reverse("home")).content.decode()
    assert "Start texting" not in page


def test_request_assigns_batch_and_redirects_to_texting(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=5, batch_size=2)
    texter = make_user()
    assignment = join(texter, campaign)
    response = signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("texting", args=[assignment.id])
    assert Contact.objects.filter(assignment=assignment).count() == 2


def test_request_for_someone_elses_assignment_is_404(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=5)
    assignment = join(make_user(), campaign)
    response = signed_in(client, make_user()).post(reverse("request-texts", args=[assignment.id]))
    assert response.status_code == 404
    assert Contact.objects.filter(assignment=assignment).count() == 0


def test_texting_view_fills_script_from_contact(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=2, batch_size=2)
    campaign.script = "Hi {firstName} {lastName}, this is {texterFirstName}."
    campaign.save()
    texter = make_user(username="sam")
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    page = client.get(reverse("texting", args=[assignment.id])).content.decode()
    assert "Hi First0 Last0, this is sam." in page
    assert "autofocus" in page


def test_send_skip_and_opt_out_move_status(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=3, batch_size=3)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    first, second, third = Contact.objects.filter(assignment=assignment).order_by("id")

    client.post(reverse("send-initial", args=[assignment.id, first.id]))
    client.post(reverse("skip", args=[assignment.id, second.id]))
    client.post(reverse("opt-out", args=[assignment.id, third.id]))

    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert first.message_status == MessageStatus.MESSAGED
    assert second.message_status == MessageStatus.CLOSED
    assert third.is_opted_out


def test_texting_view_after_last_contact_offers_request(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=4, batch_size=1)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    contact = Contact.objects.get(assignment=assignment)
    client.post(reverse("send-initial", args=[assignment.id, contact.id]))
    page = client.get(reverse("texting", args=[assignment.id])).content.decode()
    assert "You have sent all your texts." in page
    assert "Send more texts" in page


def test_send_to_reassigned_contact_is_404(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=2, batch_size=2)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    contact = Contact.objects.filter(assignment=assignment).first()
    Contact.objects.filter(id=contact.id).update(assignment=None)
    response = client.post(reverse("send-initial", args=[assignment.id, contact.id]))
    assert response.status_code == 404
    assert b"no longer assigned to you" in response.content


def closed_hours_settings() -> dict:
    """Return texting-hour settings for UTC whose one open hour is two hours from now."""
    opening = (timezone.now().hour + 2) % 24
    return {
        "TEXTING_HOURS_ENFORCED": True, "TEXTING_HOURS_START": opening, "TEXTING_HOURS_END": opening + 1,
        "TIMEZONE": "UTC",
    }


def test_send_outside_texting_hours_is_409_with_message(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=1, batch_size=1, settings=closed_hours_settings(), timezone="UTC")
    texter = make_user()
    assignment = join(texter, campaign)
    contact = Contact.objects.get(campaign=campaign)
    Contact.objects.filter(id=contact.id).update(assignment=assignment)
    response = signed_in(client, texter).post(reverse("send-initial", args=[assignment.id, contact.id]))
    assert response.status_code == 409
    assert b"outside texting hours" in response.content


def test_texting_view_counts_contacts_past_hours(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=2, batch_size=2, settings=closed_hours_settings(), timezone="UTC")
    texter = make_user()
    assignment = join(texter, campaign)
    Contact.objects.filter(campaign=campaign).update(assignment=assignment)
    page = signed_in(client, texter).get(reverse("texting", args=[assignment.id])).content.decode()
    assert 'data-count="past_hours">2<' in page
    assert "outside texting hours now" in page
    assert "send-button" not in page


def test_conversation_reply_sends_message(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=1, batch_size=1)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    contact = Contact.objects.get(assignment=assignment)
    client.post(reverse("send-initial", args=[assignment.id, contact.id]))
    receive_message(contact.id, "Who is this?")

    replies_page = client.get(reverse("replies", args=[assignment.id])).content.decode()
    assert contact.full_name in replies_page
    response = client.post(reverse("conversation", args=[assignment.id, contact.id]), {"text": "A volunteer!"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.message_status == MessageStatus.CONVO
    page = client.get(reverse("conversation", args=[assignment.id, contact.id])).content.decode()
    assert "Who is this?" in page
    assert "A volunteer!" in page


def test_empty_reply_is_refused_at_page(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=1, batch_size=1)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    contact = Contact.objects.get(assignment=assignment)
    response = client.post(reverse("conversation", args=[assignment.id, contact.id]), {"text": "  "})
    assert response.status_code == 422
    assert b"The message text is empty" in response.content


def test_release_confirmation_counts_and_releases(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=5, batch_size=3)
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    page = client.get(reverse("release", args=[assignment.id])).content.decode()
    assert "Release 3 unsent contacts" in page
    assert "release-all" not in page

    client.post(reverse("release", args=[assignment.id]), {"conversations": "0"})
    assert Contact.objects.filter(assignment=assignment).count() == 0


def test_release_conversations_when_campaign_allows(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=3, batch_size=3, settings={"RELEASE_CONVERSATIONS": True})
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    contact = Contact.objects.filter(assignment=assignment).first()
    client.post(reverse("send-initial", args=[assignment.id, contact.id]))
    page = client.get(reverse("release", args=[assignment.id])).content.decode()
    assert "Release all 3 contacts, 1 conversation included" in page

    client.post(reverse("release", args=[assignment.id]), {"conversations": "1"})
    assert Contact.objects.filter(assignment=assignment).count() == 0


def test_release_turned_off_is_403(client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=3, batch_size=3, settings={"RELEASE_CONTACTS": False})
    texter = make_user()
    assignment = join(texter, campaign)
    signed_in(client, texter).post(reverse("request-texts", args=[assignment.id]))
    response = client.post(reverse("release", args=[assignment.id]), {"conversations": "0"})
    assert response.status_code == 403
    assert Contact.objects.filter(assignment=assignment).count() == 3


def test_take_conversations_for_vetted_texter(client, make_campaign, make_user, join, organization):
    campaign = make_campaign(
        contacts=0, strategies="finished-replies,vetted-takeconversations",
        settings={"TAKE_CONVERSATIONS": True, "TAKE_CONVERSATIONS_BATCH_SIZE": 2},
    )
    add_contacts(campaign, make_cells(3, start=500), status=MessageStatus.NEEDS_RESPONSE)
    vetted = make_user(organization, Role.VETTED_TEXTER)
    assignment = join(vetted, campaign)
    page = signed_in(client, vetted).get(reverse("home")).content.decode()
    assert "Take up to 2 conversations" in page

    response = client.post(reverse("take-conversations", args=[assignment.id]))
    assert response["Location"] == reverse("replies", args=[assignment.id])
    assert Contact.objects.filter(assignment=assignment).count() == 2


def test_take_conversations_hidden_from_unvetted(client, make_campaign, make_user, join):
    campaign = make_campaign(
        contacts=0, strategies="finished-replies,vetted-takeconversations", settings={"TAKE_CONVERSATIONS": True}
    )
    texter = make_user()
    join(texter, campaign)
    page = signed_in(client, texter).get(reverse("home")).content.decode()
    assert "take-button" not in page
    assert "Take conversations:" not in page


def test_signup_then_join_through_next(client, make_campaign):
    campaign = make_campaign(contacts=2)
    join_url = reverse("join", args=[campaign.join_token])
    response = client.post(
        reverse("signup"),
        {"username": "newtexter", "first_name": "New", "password1": "long-enough-pass", "password2": "long-enough-pass",
         "next": join_url},
    )
    assert response.status_code == 302
    assert response["Location"] == join_url
    client.get(join_url)
    assert Assignment.objects.filter(campaign=campaign, texter__username="newtexter").exists()


def test_signup_with_mismatched_passwords_shows_field_error(client):
    response = client.post(
        reverse("signup"),
        {"username": "x", "first_name": "X", "password1": "long-enough-pass", "password2": "other-pass-123"},
    )
    assert response.status_code == 422
    assert b"didn" in response.content
