"""The texter's flow in Chromium: join, request, text, reply, release, take conversations."""

from __future__ import annotations

import pytest

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.messaging.sending import receive_message
from dynassign.organizations.roles import Role
from tests.fixtures import add_contacts, make_cells
from tests.web.conftest import PHONE, screenshot, sign_in, unlabelled_controls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_fits_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide, wider than the {PHONE['width']}px screen"


def press_and_wait(page, key: str) -> None:
    """Press a key that submits a form and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def assert_labelled(page) -> None:
    assert unlabelled_controls(page) == [], f"controls without a label on {page.url}"


def test_new_texter_joins_and_texts_on_phone(new_page, make_campaign):
    campaign = make_campaign(contacts=5, batch_size=2)
    campaign.title = "Get out the vote"
    campaign.script = "Hi {firstName}, will you vote on Tuesday?"
    campaign.save()
    page = new_page(PHONE)

    page.goto(f"/join/{campaign.join_token}/")
    assert "/login/" in page.url
    assert_labelled(page)
    page.get_by_role("link", name="Create an account").click()
    assert_labelled(page)
    assert_fits_phone(page)
    page.get_by_label("Username").fill("riley")
    page.get_by_label("First name").fill("Riley")
    page.get_by_label("Password", exact=True).fill("a-long-password-1")
    page.get_by_label("Password confirmation").fill("a-long-password-1")
    page.get_by_role("button", name="Create account").click()

    page.get_by_text("Welcome to Get out the vote.").wait_for()
    assert_fits_phone(page)
    page.get_by_role("button", name="Start texting").click()
    page.get_by_text("You have 2 new contacts to text.").wait_for()
    assert page.locator(".script").inner_text() == "Hi First0, will you vote on Tuesday?"
    assert_labelled(page)
    assert_fits_phone(page)
    screenshot(page, "texting-view")

    page.get_by_role("button", name="Send", exact=True).click()
    assert page.locator(".script").inner_text() == "Hi First1, will you vote on Tuesday?"
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("You have sent all your texts.").wait_for()
    assert page.get_by_role("button", name="Send more texts").is_visible()

    page.get_by_role("link", name="To-do").click()
    assert page.locator('[data-count="to_send"]').inner_text() == "0"
    assert page.get_by_role("button", name="Send more texts").is_visible()
    assert_fits_phone(page)
    assert_labelled(page)
    screenshot(page, "todo-page")
    sent = Contact.objects.filter(campaign=campaign, message_status=MessageStatus.MESSAGED).count()
    assert sent == 2


def test_keyboard_alone_requests_and_sends(new_page, make_campaign, make_user, join):
    campaign = make_campaign(contacts=3, batch_size=3)
    texter = make_user()
    assignment = join(texter, campaign)
    page = new_page(PHONE)

    page.goto("/login/")
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(texter.username)
    page.keyboard.press("Tab")
    page.keyboard.type("test-password-1")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your campaigns").wait_for()

    page.goto(f"/assignments/{assignment.id}/")
    assert page.evaluate("document.activeElement.textContent") == "Start texting"
    page.keyboard.press("Enter")
    page.get_by_text("You have 3 new contacts to text.").wait_for()

    assert page.evaluate("document.activeElement.textContent") == "Send"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused Send button shows no focus outline"
    press_and_wait(page, "Enter")
    assert page.evaluate("document.activeElement.textContent") == "Send"

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip"
    press_and_wait(page, "Enter")
    # Autofocus may land after the load event on a busy machine; a key
    # pressed before it would go nowhere.
    page.wait_for_function("document.activeElement && document.activeElement.textContent === 'Send'")
    press_and_wait(page, "Enter")
    page.get_by_text("You have sent all your texts.").wait_for()

    statuses = sorted(Contact.objects.filter(assignment=assignment).values_list("message_status", flat=True))
    assert statuses == [MessageStatus.CLOSED, MessageStatus.MESSAGED, MessageStatus.MESSAGED]


@pytest.mark.parametrize(
    ("case", "status", "heading"),
    [
        ("rotated", 404, "This link does not work"),
        ("archived", 404, "This campaign has ended"),
        ("full", 409, "You cannot join this campaign"),
        ("suspended", 403, "You cannot join this campaign"),
    ],
)
def test_join_refusals_show_clear_pages(new_page, make_campaign, make_user, join, organization, case, status, heading):
    campaign = make_campaign(contacts=2, settings={"MAX_TEXTERS_PER_CAMPAIGN": 1})
    token = campaign.join_token
    texter = make_user(organization, Role.SUSPENDED if case == "suspended" else Role.TEXTER)
    if case == "rotated":
        campaign.join_token = "a-new-token"
        campaign.save()
    elif case == "archived":
        campaign.is_archived = True
        campaign.save()
    elif case == "full":
        join(make_user(), campaign)
    page = new_page(PHONE)
    sign_in(page, texter.username)

    response = page.goto(f"/join/{token}/")

    assert response.status == status
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert "Traceback" not in page.content()
    assert_fits_phone(page)
    assert not Assignment.objects.filter(texter=texter).exists()


def test_reply_in_conversation_view(new_page, make_campaign, make_user, join):
    campaign = make_campaign(contacts=1, batch_size=1)
    texter = make_user()
    assignment = join(texter, campaign)
    contact = Contact.objects.get(campaign=campaign)
    Contact.objects.filter(id=contact.id).update(assignment=assignment)
    page = new_page(PHONE)
    sign_in(page, texter.username)
    page.goto(f"/assignments/{assignment.id}/")
    page.get_by_role("button", name="Send", exact=True).click()
    receive_message(contact.id, "Yes, I will vote!")

    page.goto("/")
    assert page.locator('[data-count="replies"]').inner_text() == "1"
    page.get_by_role("link", name="Conversations (1 waiting)").click()
    page.get_by_role("link", name=contact.full_name).click()
    assert page.get_by_text("Yes, I will vote!").is_visible()
    assert_labelled(page)
    assert_fits_phone(page)
    page.get_by_label("Your reply").fill("Thank you!")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Thank you!").wait_for()
    contact.refresh_from_db()
    assert contact.message_status == MessageStatus.CONVO


def test_release_asks_with_count_then_releases(new_page, make_campaign, make_user, join):
    campaign = make_campaign(contacts=6, batch_size=4, settings={"RELEASE_CONVERSATIONS": True})
    texter = make_user()
    assignment = join(texter, campaign)
    page = new_page(PHONE)
    sign_in(page, texter.username)
    page.goto(f"/assignments/{assignment.id}/")
    page.get_by_role("button", name="Start texting").click()
    page.get_by_role("button", name="Send", exact=True).click()

    page.goto("/")
    page.get_by_role("link", name="Release contacts…").click()
    assert page.get_by_role("button", name="Release 3 unsent contacts").is_visible()
    assert page.get_by_role("button", name="Release all 4 contacts, 1 conversation included").is_visible()
    page.get_by_role("button", name="Release 3 unsent contacts").click()
    page.get_by_text("Released 3 contacts back to").wait_for()
    assert Contact.objects.filter(assignment=assignment).count() == 1

    page.get_by_role("link", name="Release contacts…").click()
    page.get_by_role("button", name="Release all 1 contact, 1 conversation included").click()
    page.get_by_text("Released 1 contact back to").wait_for()
    assert Contact.objects.filter(assignment=assignment).count() == 0


def test_vetted_texter_takes_conversations(new_page, make_campaign, make_user, join, organization):
    campaign = make_campaign(
        contacts=0, strategies="finished-replies,vetted-takeconversations",
        settings={"TAKE_CONVERSATIONS": True, "TAKE_CONVERSATIONS_BATCH_SIZE": 2},
    )
    add_contacts(campaign, make_cells(3, start=700), status=MessageStatus.NEEDS_RESPONSE)
    vetted = make_user(organization, Role.VETTED_TEXTER)
    assignment = join(vetted, campaign)
    page = new_page(PHONE)
    sign_in(page, vetted.username)

    page.get_by_role("button", name="Take up to 2 conversations").click()
    page.get_by_text("You took 2 conversations.").wait_for()
    assert page.locator(".contact-list li a").count() == 2
    assert Contact.objects.filter(assignment=assignment).count() == 2

    page.goto("/")
    assert page.get_by_text("Take conversations: Finish sending your current batch first.").is_visible()
    assert page.get_by_role("button", name="Take up to 2 conversations").count() == 0

    Contact.objects.filter(assignment=assignment).update(message_status=MessageStatus.CLOSED)
    page.goto("/")
    page.get_by_role("button", name="Take up to 2 conversations").click()
    page.get_by_text("You took 1 conversation.").wait_for()
    page.goto("/")
    assert page.get_by_text("Take conversations: No conversations are waiting to be taken.").is_visible()
