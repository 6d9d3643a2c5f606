"""Admin pages through Django's test client: settings, members, campaign editor, uploads, texters, dashboard."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dynassign.assignment.batches import request_batch
from dynassign.assignment.models import AssignmentEvent, EventKind
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role

pytestmark = pytest.mark.django_db

MESSY_CSV = Path(__file__).resolve().parents[1] / "data" / "contacts-messy.csv"


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def field_html(page: str, name: str) -> str:
    """Return the markup of one form field: its label, input, help text and errors."""
    start = page.index(f'id="field-{name}"')
    end = page.find('<div class="field', start)
    return page[start:end if end != -1 else len(page)]


def editor_data(**overrides):
    data = {
        "title": "Spring canvass", "description": "", "script": "Hi {firstName}!", "use_dynamic_assignment": "on",
        "batch_size": "25", "response_window": "48", "default_strategy": "", "TAKE_CONVERSATIONS_BATCH_TYPE": "",
    }
    data.update(overrides)
    return data


def test_settings_save_and_resolve(admin_client, organization):
    response = admin_client.post(
        reverse("organization-settings", args=[organization.id]),
        {"REQUEST_LABEL": "More please", "TAKE_CONVERSATIONS": "true", "MAX_TEXTERS_PER_CAMPAIGN": "40",
         "DYNAMICASSIGNMENT_BATCHES": "vetted-texters"},
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.settings["REQUEST_LABEL"] == "More please"
    assert organization.settings["TAKE_CONVERSATIONS"] is True
    assert organization.settings["MAX_TEXTERS_PER_CAMPAIGN"] == 40
    assert organization.settings["DYNAMICASSIGNMENT_BATCHES"] == "vetted-texters"


def test_settings_invalid_value_shown_at_field(admin_client, organization):
    response = admin_client.post(reverse("organization-settings", args=[organization.id]), {"TEXTING_HOURS_START": "25"})
    page = response.content.decode()
    assert response.status_code == 422
    assert "TEXTING_HOURS_START must be at least 0 and at most 23, not 25." in field_html(page, "TEXTING_HOURS_START")
    organization.refresh_from_db()
    assert "TEXTING_HOURS_START" not in organization.settings


def test_settings_warn_when_max_contacts_zero(admin_client, organization):
    url = reverse("organization-settings", args=[organization.id])
    assert "max-contacts-warning" not in admin_client.get(url).content.decode()
    admin_client.post(url, {"MAX_CONTACTS_PER_TEXTER": "0"})
    assert "max-contacts-warning" in admin_client.get(url).content.decode()


def test_settings_show_strategy_display_names(admin_client, organization):
    page = admin_client.get(reverse("organization-settings", args=[organization.id])).content.decode()
    assert "Texters who have answered their replies (finished-replies)" in page
    assert "Vetted texters take unheld conversations (vetted-takeconversations)" in page


def test_settings_refused_to_texter(client, organization, make_user):
    client.force_login(make_user(organization, Role.TEXTER))
    response = client.get(reverse("organization-settings", args=[organization.id]))
    assert response.status_code == 403


def test_organization_hidden_from_outsider(client, organization, make_user):
    client.force_login(make_user())
    assert client.get(reverse("organization", args=[organization.id])).status_code == 404


def test_vet_texter_in_one_click(admin_client, organization, make_user):
    texter = make_user(organization, Role.TEXTER)
    page = admin_client.get(reverse("members", args=[organization.id])).content.decode()
    assert f"Vet {texter.username}" in page
    admin_client.post(reverse("change-role", args=[organization.id, texter.id]), {"role": Role.VETTED_TEXTER})
    assert Membership.objects.get(user=texter).role == Role.VETTED_TEXTER


def test_admin_cannot_demote_owner(client, organization, make_user, admin):
    client.force_login(make_user(organization, Role.ADMIN))
    response = client.post(reverse("change-role", args=[organization.id, admin.id]), {"role": Role.TEXTER})
    assert response.status_code == 403
    assert Membership.objects.get(user=admin).role == Role.OWNER


def test_add_member_by_username(admin_client, organization, make_user):
    newcomer = make_user()
    admin_client.post(reverse("invite-member", args=[organization.id]), {"username": newcomer.username, "role": "TEXTER"})
    assert Membership.objects.get(user=newcomer, organization=organization).role == Role.TEXTER


def test_add_unknown_member_explains(admin_client, organization):
    response = admin_client.post(reverse("invite-member", args=[organization.id]), {"username": "nobody"})
    assert response.status_code == 422
    assert b"No account has the username" in response.content


def test_create_campaign_with_strategies_default_first(admin_client, organization):
    data = editor_data(default_strategy="all-texters", other_strategies=["vetted-takeconversations", "all-texters"],
                       TAKE_CONVERSATIONS="true", TEXTING_HOURS_ENFORCED="true", TEXTING_HOURS_START="10",
                       TIMEZONE="America/Chicago")
    response = admin_client.post(reverse("campaign-new", args=[organization.id]), data)
    campaign = Campaign.objects.get(title="Spring canvass")
    assert response["Location"] == reverse("campaign", args=[campaign.id])
    assert campaign.batch_size == 25
    assert campaign.use_dynamic_assignment
    assert campaign.settings["DYNAMICASSIGNMENT_BATCHES"] == "all-texters,vetted-takeconversations"
    assert campaign.settings["TAKE_CONVERSATIONS"] is True
    assert campaign.settings["TEXTING_HOURS_START"] == 10
    assert campaign.settings["TIMEZONE"] == "America/Chicago"
    assert "REQUEST_LABEL" not in campaign.settings


def test_editor_shows_batch_size_error_at_field(admin_client, organization):
    response = admin_client.post(reverse("campaign-new", args=[organization.id]), editor_data(batch_size="0"))
    page = response.content.decode()
    assert response.status_code == 422
    assert "batch_size must be a positive whole number or empty, not 0" in field_html(page, "batch_size")
    assert not Campaign.objects.exists()


def test_editor_shows_missing_title_at_field(admin_client, organization):
    response = admin_client.post(reverse("campaign-new", args=[organization.id]), editor_data(title=" "))
    page = response.content.decode()
    assert "title must not be empty" in field_html(page, "title")


def test_editor_shows_invalid_timezone_at_field(admin_client, organization):
    response = admin_client.post(reverse("campaign-new", args=[organization.id]), editor_data(TIMEZONE="Mars/Base"))
    page = response.content.decode()
    assert "TIMEZONE must be an IANA time zone" in field_html(page, "TIMEZONE")


def test_editor_needs_default_before_other_strategies(admin_client, organization):
    response = admin_client.post(
        reverse("campaign-new", args=[organization.id]), editor_data(other_strategies=["all-texters"])
    )
    assert response.status_code == 422
    assert b"Choose a default strategy" in response.content


def test_edit_campaign_removes_override(admin_client, make_campaign):
    campaign = make_campaign(settings={"REQUEST_LABEL": "Old label"})
    url = reverse("campaign-edit", args=[campaign.id])
    assert "Old label" in admin_client.get(url).content.decode()
    admin_client.post(url, editor_data(REQUEST_LABEL=""))
    campaign.refresh_from_db()
    assert "REQUEST_LABEL" not in campaign.settings
    assert campaign.title == "Spring canvass"


def test_rotate_start_archive(admin_client, make_campaign):
    campaign = make_campaign(is_started=False)
    old_token = campaign.join_token
    admin_client.post(reverse("campaign-action", args=[campaign.id, "rotate"]))
    admin_client.post(reverse("campaign-action", args=[campaign.id, "start"]))
    campaign.refresh_from_db()
    assert campaign.join_token != old_token
    assert campaign.is_started
    page = admin_client.get(reverse("campaign", args=[campaign.id])).content.decode()
    assert f"/join/{campaign.join_token}/" in page

    admin_client.post(reverse("campaign-action", args=[campaign.id, "archive"]))
    campaign.refresh_from_db()
    assert campaign.is_archived


def test_unknown_campaign_action_is_422(admin_client, make_campaign):
    campaign = make_campaign()
    response = admin_client.post(reverse("campaign-action", args=[campaign.id, "explode"]))
    assert response.status_code == 422


def test_upload_messy_file_reports_rejected_rows(admin_client, make_campaign):
    campaign = make_campaign(contacts=0)
    upload = SimpleUploadedFile("contacts-messy.csv", MESSY_CSV.read_bytes(), content_type="text/csv")
    response = admin_client.post(
        reverse("upload-contacts", args=[campaign.id]), {"contacts": upload}, headers={"X-Requested-With": "fetch"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="imported-count">306</strong>' in page
    assert '<strong class="rejected-count">11</strong>' in page
    assert "<td>214</td>" in page
    assert Contact.objects.filter(campaign=campaign).count() == 306

    download = admin_client.get(reverse("upload-report-csv", args=[campaign.id]))
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert download["Content-Disposition"].startswith("attachment")
    assert [int(row["line"]) for row in rows] == [166, 203, 210, 214, 231, 240, 248, 253, 273, 286, 307]
    assert rows[0]["code"] == "invalid_cell"


def test_upload_without_cell_column_is_refused(admin_client, make_campaign):
    campaign = make_campaign(contacts=0)
    upload = SimpleUploadedFile("bad.csv", b"firstName,lastName\nAda,Lovelace\n", content_type="text/csv")
    response = admin_client.post(reverse("upload-contacts", args=[campaign.id]), {"contacts": upload})
    assert response.status_code == 422
    assert b"cell" in response.content


def test_upload_refused_to_supervolunteer(client, organization, make_user, make_campaign):
    campaign = make_campaign(contacts=0)
    client.force_login(make_user(organization, Role.SUPERVOLUNTEER))
    upload = SimpleUploadedFile("c.csv", b"firstName,lastName,cell\nA,B,2125550100\n")
    response = client.post(reverse("upload-contacts", args=[campaign.id]), {"contacts": upload})
    assert response.status_code == 403


def test_texters_page_counts_and_max_contacts(admin_client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=10, batch_size=4)
    texter = make_user(username="casey")
    assignment = join(texter, campaign)
    request_batch(assignment.id)
    page = admin_client.get(reverse("texters", args=[campaign.id])).content.decode()
    row = page[page.index('id="texter-casey"'):]
    assert "<td>4</td>" in row[: row.index("</tr>")]

    admin_client.post(reverse("set-max-contacts", args=[campaign.id, assignment.id]), {"max_contacts": "6"})
    assignment.refresh_from_db()
    assert assignment.max_contacts == 6
    admin_client.post(reverse("set-max-contacts", args=[campaign.id, assignment.id]), {"max_contacts": ""})
    assignment.refresh_from_db()
    assert assignment.max_contacts is None


def test_max_contacts_negative_is_refused(admin_client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=1)
    assignment = join(make_user(), campaign)
    response = admin_client.post(reverse("set-max-contacts", args=[campaign.id, assignment.id]), {"max_contacts": "-1"})
    assert response.status_code == 422
    assert b"max_contacts must be 0 or more" in response.content


def test_reassign_between_texters_and_release(admin_client, make_campaign, make_user, join, organization):
    campaign = make_campaign(contacts=10, batch_size=6)
    giver = make_user(organization)
    taker = make_user(organization)
    giver_assignment = join(giver, campaign)
    taker_assignment = join(taker, campaign)
    request_batch(giver_assignment.id)

    admin_client.post(reverse("reassign", args=[campaign.id]),
                      {"from_texter": giver.id, "to_texter": taker.id, "statuses": ["needsMessage"], "count": "2"})
    assert Contact.objects.filter(assignment=taker_assignment).count() == 2
    assert Contact.objects.filter(assignment=giver_assignment).count() == 4

    admin_client.post(reverse("reassign", args=[campaign.id]), {"from_texter": giver.id, "to_texter": ""})
    assert Contact.objects.filter(assignment=giver_assignment).count() == 0
    assert AssignmentEvent.objects.filter(campaign=campaign, kind=EventKind.REASSIGNED).count() == 2


def test_reassign_bad_count_is_refused(admin_client, make_campaign):
    campaign = make_campaign(contacts=2)
    response = admin_client.post(reverse("reassign", args=[campaign.id]), {"count": "many"})
    assert response.status_code == 422
    assert b"count must be a whole number" in response.content


def test_dashboard_counts_chart_and_history(admin_client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=10, batch_size=3)
    texter = make_user(username="dana")
    assignment = join(texter, campaign)
    request_batch(assignment.id)
    page = admin_client.get(reverse("dashboard", args=[campaign.id])).content.decode()
    assert 'data-stat="assigned">3<' in page
    assert 'data-stat="pool">7<' in page
    assert 'data-stat="active_texters">1<' in page
    assert "<svg" in page
    assert 'hx-trigger="every 5s"' in page
    assert "batch assigned" in page

    live = admin_client.get(reverse("dashboard-live", args=[campaign.id]), {"kind": "released"}).content.decode()
    assert "<html" not in live
    assert "No assignment changes match the filters." in live


def test_dashboard_filters_by_texter(admin_client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=10, batch_size=2)
    first = join(make_user(username="erin"), campaign)
    second = join(make_user(username="finn"), campaign)
    request_batch(first.id)
    request_batch(second.id)
    live = admin_client.get(
        reverse("dashboard-live", args=[campaign.id]), {"texter": second.texter_id}
    ).content.decode()
    history = live[live.index('class="history"'):]
    assert "finn" in history
    assert "erin" not in history


def test_dashboard_unknown_kind_is_422(admin_client, make_campaign):
    campaign = make_campaign()
    response = admin_client.get(reverse("dashboard", args=[campaign.id]), {"kind": "bogus"})
    assert response.status_code == 422


def test_dashboard_refused_to_texter(client, make_campaign, make_user, organization):
    campaign = make_campaign()
    client.force_login(make_user(organization, Role.TEXTER))
    assert client.get(reverse("dashboard", args=[campaign.id])).status_code == 403


def test_status_counts_move_after_send(admin_client, make_campaign, make_user, join):
    campaign = make_campaign(contacts=2, batch_size=2)
    assignment = join(make_user(), campaign)
    request_batch(assignment.id)
    Contact.objects.filter(campaign=campaign).update(message_status=MessageStatus.MESSAGED)
    page = admin_client.get(reverse("dashboard-live", args=[campaign.id])).content.decode()
    assert 'data-stat="messaged">2<' in page
    assert 'data-stat="needsMessage">0<' in page


def test_create_organization_makes_owner(client, make_user):
    user = make_user()
    client.force_login(user)
    response = client.post(reverse("organization-new"), {"name": "Riverside Votes"})
    membership = Membership.objects.get(user=user)
    assert response["Location"] == reverse("organization", args=[membership.organization_id])
    assert membership.role == Role.OWNER


def test_create_organization_without_name_is_422(client, make_user):
    client.force_login(make_user())
    response = client.post(reverse("organization-new"), {"name": "  "})
    assert response.status_code == 422
    assert b"An organization needs a name." in response.content
