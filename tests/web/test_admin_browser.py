"""Admin flows in Chromium: a small text-a-thon from campaign creation to handing conversations over."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from dynassign.assignment.batches import request_batch
from dynassign.assignment.models import Assignment
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.messaging.sending import receive_message
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role
from tests.web.conftest import PHONE, screenshot, sign_in, unlabelled_controls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSY_CSV = Path(__file__).resolve().parents[1] / "data" / "contacts-messy.csv"


def assert_labelled(page) -> None:
    assert unlabelled_controls(page) == [], f"controls without a label on {page.url}"


def create_campaign(page, organization) -> Campaign:
    page.goto(f"/organizations/{organization.id}/")
    page.get_by_role("link", name="New campaign").click()
    assert_labelled(page)
    page.get_by_label("Title", exact=True).fill("Weekend text-a-thon")
    page.get_by_label("Script", exact=True).fill("Hi {firstName}, this is {texterFirstName}. Can we count on your vote?")
    page.get_by_label("Dynamic assignment", exact=True).check()
    page.get_by_label("Batch size", exact=True).fill("0")
    page.get_by_role("button", name="Save campaign").click()
    page.locator("#field-batch_size .errorlist").get_by_text("batch_size must be a positive whole number").wait_for()

    page.get_by_label("Batch size", exact=True).fill("20")
    page.get_by_label("Default strategy", exact=True).select_option("finished-replies")
    page.get_by_role("checkbox", name="Vetted texters take unheld conversations (vetted-takeconversations)").check()
    page.get_by_label("Take conversations", exact=True).select_option("true")
    page.get_by_label("Take conversations batch size", exact=True).fill("5")
    page.get_by_label("Outbound unassign", exact=True).select_option("true")
    screenshot(page, "campaign-editor")
    page.get_by_role("button", name="Save campaign").click()
    page.get_by_text("Campaign Weekend text-a-thon saved.").wait_for()
    return Campaign.objects.get(title="Weekend text-a-thon")


def upload_messy_contacts(page) -> None:
    page.get_by_label("Contact file (CSV)", exact=True).set_input_files(str(MESSY_CSV))
    page.get_by_role("button", name="Upload").click()
    page.locator(".imported-count").wait_for()
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    assert page.locator(".imported-count").inner_text() == "306"
    assert page.locator(".rejected-count").inner_text() == "11"
    assert page.locator(".rejected-rows tbody tr").count() == 11
    totals = page.locator("#campaign-totals div", has_text="Contacts").locator("dd")
    expect(totals).to_have_text("306")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    lines = Path(download_info.value.path()).read_text().splitlines()
    assert lines[0] == "line,column,code,message"
    assert len(lines) == 12


def text_first_batch(page, campaign: Campaign) -> None:
    """Join by link as a new texter and send the initial message to every contact of the first batch."""
    page.goto(f"/join/{campaign.join_token}/")
    page.get_by_role("button", name="Start texting").click()
    while page.get_by_role("button", name="Send", exact=True).count():
        page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("You have sent all your texts.").wait_for()


def test_text_a_thon_end_to_end(new_page, organization, admin, make_user):
    admin_page = new_page()
    sign_in(admin_page, admin.username)

    campaign = create_campaign(admin_page, organization)
    assert campaign.settings["DYNAMICASSIGNMENT_BATCHES"] == "finished-replies,vetted-takeconversations"
    assert campaign.settings["OUTBOUND_UNASSIGN"] is True
    upload_messy_contacts(admin_page)

    admin_page.get_by_role("button", name="Start campaign").click()
    admin_page.get_by_text("Campaign started").wait_for()
    join_url = admin_page.get_by_label("Join link of Weekend text-a-thon", exact=True).input_value()
    assert join_url.endswith(f"/join/{campaign.join_token}/")
    admin_page.get_by_role("button", name="Copy link").click()
    admin_page.get_by_text("Link copied.").wait_for()
    assert_labelled(admin_page)

    first = make_user(username="alex")
    second = make_user(username="blair")
    first_page = new_page(PHONE)
    sign_in(first_page, first.username)
    text_first_batch(first_page, campaign)
    second_page = new_page(PHONE)
    sign_in(second_page, second.username)
    text_first_batch(second_page, campaign)

    # Outbound unassign handed every texted contact back, so both texters hold nothing.
    assert Contact.objects.filter(campaign=campaign, assignment__isnull=False).count() == 0
    assert Contact.objects.filter(campaign=campaign, message_status=MessageStatus.MESSAGED).count() == 40
    for contact in Contact.objects.filter(campaign=campaign, message_status=MessageStatus.MESSAGED)[:3]:
        receive_message(contact.id, "Yes, count me in")

    admin_page.goto(f"/organizations/{organization.id}/members/")
    admin_page.get_by_role("button", name="Vet alex").click()
    admin_page.locator("#member-alex .role").get_by_text("VETTED_TEXTER").wait_for()
    assert_labelled(admin_page)
    assert Membership.objects.get(user=first, organization=organization).role == Role.VETTED_TEXTER

    first_page.goto("/")
    first_page.get_by_role("button", name="Take up to 5 conversations").click()
    first_page.get_by_text("You took 3 conversations.").wait_for()
    second_page.goto("/")
    assert second_page.get_by_role("button", name="Take up to 5 conversations").count() == 0
    assert Contact.objects.filter(assignment__texter=first, message_status=MessageStatus.NEEDS_RESPONSE).count() == 3

    admin_page.goto(f"/campaigns/{campaign.id}/dashboard/")
    assert admin_page.locator('[data-stat="messaged"]').inner_text() == "37"
    assert admin_page.locator('[data-stat="needsResponse"]').inner_text() == "3"
    assert admin_page.locator(".chart svg").count() == 1
    assert_labelled(admin_page)
    admin_page.set_viewport_size({"width": 1280, "height": 1500})
    screenshot(admin_page, "dashboard", full_page=False)


def test_dashboard_refreshes_by_itself(new_page, admin, make_campaign, make_user, join):
    campaign = make_campaign(contacts=20, batch_size=5)
    page = new_page()
    sign_in(page, admin.username)
    page.goto(f"/campaigns/{campaign.id}/dashboard/")
    assert page.locator('[data-stat="assigned"]').inner_text() == "0"

    texter = make_user()
    assignment = join(texter, campaign)
    request_batch(assignment.id)
    page.locator('[data-stat="assigned"]', has_text="5").wait_for(timeout=15_000)
    assert page.locator('[data-stat="pool"]').inner_text() == "15"
    assert page.locator('[data-stat="active_texters"]').inner_text() == "1"


def test_dashboard_history_filters(new_page, admin, make_campaign, make_user, join):
    campaign = make_campaign(contacts=20, batch_size=2)
    first = make_user(username="gale")
    first_assignment = join(first, campaign)
    request_batch(first_assignment.id)
    release(first_assignment.id, first)
    second_assignment = join(make_user(username="hana"), campaign)
    request_batch(second_assignment.id)
    page = new_page()
    sign_in(page, admin.username)
    page.goto(f"/campaigns/{campaign.id}/dashboard/")
    assert page.locator(".history tbody tr").count() == 3

    page.get_by_label("Kind", exact=True).select_option("released")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**kind=released**")
    assert page.locator(".history tbody tr").count() == 1
    assert page.locator(".history tbody tr").first.get_attribute("data-kind") == "released"

    page.get_by_label("Kind", exact=True).select_option("")
    page.get_by_label("Texter", exact=True).select_option(label="hana")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**texter=**")
    assert page.locator(".history tbody tr").count() == 1
    assert "hana" in page.locator(".history tbody tr").first.inner_text()


def test_organization_settings_warn_and_save(new_page, admin, organization):
    page = new_page()
    sign_in(page, admin.username)
    page.goto(f"/organizations/{organization.id}/settings/")
    assert_labelled(page)
    page.get_by_label("Max contacts per texter", exact=True).fill("0")
    page.get_by_label("Release conversations", exact=True).select_option("true")
    page.get_by_label("Batch strategy", exact=True).select_option("vetted-texters")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Organization settings saved.").wait_for()
    assert page.locator("#max-contacts-warning").is_visible()

    page.get_by_label("Texting hours end", exact=True).fill("30")
    page.get_by_role("button", name="Save settings").click()
    page.locator("#field-TEXTING_HOURS_END .errorlist").get_by_text("TEXTING_HOURS_END must be at least 1").wait_for()
    organization.refresh_from_db()
    assert organization.settings["MAX_CONTACTS_PER_TEXTER"] == 0
    assert organization.settings["RELEASE_CONVERSATIONS"] is True
    assert "TEXTING_HOURS_END" not in organization.settings


def test_texters_page_edits_limit_and_releases(new_page, admin, make_campaign, make_user, join):
    campaign = make_campaign(contacts=10, batch_size=4)
    texter = make_user(username="ivy")
    assignment = join(texter, campaign)
    request_batch(assignment.id)
    page = new_page()
    sign_in(page, admin.username)
    page.goto(f"/campaigns/{campaign.id}/texters/")
    assert_labelled(page)
    page.get_by_label("Max contacts of ivy", exact=True).fill("4")
    page.locator("#texter-ivy").get_by_role("button", name="Save").click()
    page.get_by_text("Max contacts of ivy set to 4.").wait_for()
    assert Assignment.objects.get(id=assignment.id).max_contacts == 4

    page.get_by_label("From", exact=True).select_option(label="ivy")
    page.get_by_label("needsMessage", exact=True).check()
    page.get_by_label("How many (empty: all that match)", exact=True).fill("3")
    page.get_by_role("button", name="Move contacts").click()
    page.get_by_text("Moved 3 contacts to the unassigned pool.").wait_for()
    assert Contact.objects.filter(assignment=assignment).count() == 1


def test_rotate_link_and_archive(new_page, admin, make_campaign, make_user):
    campaign = make_campaign(contacts=2)
    old_token = campaign.join_token
    page = new_page()
    sign_in(page, admin.username)
    page.goto(f"/campaigns/{campaign.id}/")
    page.get_by_role("button", name="Rotate link").click()
    page.get_by_text("New join link made").wait_for()
    campaign.refresh_from_db()
    assert page.get_by_label(f"Join link of {campaign.title}", exact=True).input_value().endswith(f"/join/{campaign.join_token}/")

    texter_page = new_page(PHONE)
    sign_in(texter_page, make_user().username)
    assert texter_page.goto(f"/join/{old_token}/").status == 404

    page.get_by_role("button", name="Archive campaign").click()
    page.get_by_text("Campaign archived").wait_for()
    response = texter_page.goto(f"/join/{campaign.join_token}/")
    assert response.status == 404
    assert texter_page.get_by_role("heading", name="This campaign has ended").is_visible()
