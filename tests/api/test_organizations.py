"""Organization endpoints: organizations, settings, strategies, members and campaign creation."""

from __future__ import annotations

import pytest

from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role


def _settings_by_name(response) -> dict[str, dict]:
    return {entry["name"]: entry for entry in response.json()}


def test_create_organization_makes_caller_owner(api_as, make_user):
    user = make_user()
    client = api_as(user)

    created = client.post("/api/organizations", {"name": "  Neighbors United "})
    listed = client.get("/api/organizations").json()

    assert created.status_code == 201
    assert created.json()["name"] == "Neighbors United"
    assert created.json()["role"] == "OWNER"
    assert listed == [created.json()]


def test_create_organization_needs_name(api_as, make_user):
    response = api_as(make_user()).post("/api/organizations", {"name": ""})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


def test_settings_show_value_and_override(api_as, admin, organization):
    organization.settings = {"MAX_CONTACTS_PER_TEXTER": 150}
    organization.save()

    settings = _settings_by_name(api_as(admin).get(f"/api/organizations/{organization.id}/settings"))

    assert settings["MAX_CONTACTS_PER_TEXTER"]["value"] == 150
    assert settings["MAX_CONTACTS_PER_TEXTER"]["override"] == 150
    assert settings["DYNAMICASSIGNMENT_BATCHES"]["value"] == "finished-replies"
    assert settings["DYNAMICASSIGNMENT_BATCHES"]["override"] is None
    assert "MESSAGE_HANDLERS" not in settings


def test_patch_settings_stores_and_removes(api_as, admin, organization):
    client = api_as(admin)
    path = f"/api/organizations/{organization.id}/settings"

    stored = _settings_by_name(client.patch(path, {"MAX_TEXTERS_PER_CAMPAIGN": "25", "TAKE_CONVERSATIONS": True}))
    removed = _settings_by_name(client.patch(path, {"MAX_TEXTERS_PER_CAMPAIGN": None}))

    assert stored["MAX_TEXTERS_PER_CAMPAIGN"]["override"] == 25
    assert stored["TAKE_CONVERSATIONS"]["value"] is True
    assert removed["MAX_TEXTERS_PER_CAMPAIGN"]["override"] is None
    assert removed["TAKE_CONVERSATIONS"]["override"] is True
    organization.refresh_from_db()
    assert organization.settings == {"TAKE_CONVERSATIONS": True}


def test_unknown_strategy_is_422_naming_it(api_as, admin, organization):
    response = api_as(admin).patch(
        f"/api/organizations/{organization.id}/settings", {"DYNAMICASSIGNMENT_BATCHES": "finished-replies,fastest-first"}
    )

    assert response.status_code == 422
    assert response.json()["error"] == "configuration_error"
    assert "'fastest-first'" in response.json()["message"]
    assert "finished-replies" in response.json()["message"]
    organization.refresh_from_db()
    assert organization.settings == {}


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"MAX_CONTACTS_PER_TEXTER": "many"}, "'many'"),
        ({"MAX_TEXTERS_PER_CAMPAIGN": 0}, "MAX_TEXTERS_PER_CAMPAIGN"),
        ({"NO_SUCH_SETTING": 1}, "'NO_SUCH_SETTING'"),
        ({"MESSAGE_HANDLERS": "outbound-unassign"}, "environment variable"),
    ],
)
def test_invalid_setting_is_422(api_as, admin, organization, values, named):
    response = api_as(admin).patch(f"/api/organizations/{organization.id}/settings", values)

    assert response.status_code == 422
    assert named in response.json()["message"]


def test_settings_body_must_be_object(api_as, admin, organization):
    response = api_as(admin).patch(f"/api/organizations/{organization.id}/settings", ["MAX_CONTACTS_PER_TEXTER"])

    assert response.status_code == 422


def test_strategies_list_builtins(api_as, admin, organization):
    strategies = api_as(admin).get(f"/api/organizations/{organization.id}/strategies").json()

    names = [strategy["name"] for strategy in strategies]
    assert names[:5] == [
        "finished-replies", "finished-replies-tz", "vetted-texters", "all-texters", "vetted-takeconversations",
    ]
    assert all(strategy["display_name"] for strategy in strategies)


def test_add_member_and_change_role(api_as, admin, organization, make_user):
    newcomer = make_user(username="newcomer")
    client = api_as(admin)

    added = client.post(f"/api/organizations/{organization.id}/members", {"username": "newcomer", "role": "TEXTER"})
    vetted = client.patch(f"/api/organizations/{organization.id}/members/{newcomer.id}", {"role": "VETTED_TEXTER"})
    members = client.get(f"/api/organizations/{organization.id}/members").json()

    assert added.status_code == 200
    assert added.json()["role"] == "TEXTER"
    assert vetted.json()["role"] == "VETTED_TEXTER"
    assert {m["username"]: m["role"] for m in members}["newcomer"] == "VETTED_TEXTER"


def test_add_unknown_username_is_404(api_as, admin, organization):
    response = api_as(admin).post(f"/api/organizations/{organization.id}/members", {"username": "ghost"})

    assert response.status_code == 404
    assert "'ghost'" in response.json()["message"]


def test_unknown_role_is_422(api_as, admin, organization, make_user):
    member = make_user(organization)

    response = api_as(admin).patch(f"/api/organizations/{organization.id}/members/{member.id}", {"role": "BOSS"})

    assert response.status_code == 422
    assert "'BOSS'" in response.json()["message"]


def test_admin_cannot_make_owner(api_as, organization, make_user):
    admin = make_user(organization, Role.ADMIN)
    member = make_user(organization)

    response = api_as(admin).patch(f"/api/organizations/{organization.id}/members/{member.id}", {"role": "OWNER"})

    assert response.status_code == 403
    assert Membership.objects.get(user=member).role == Role.TEXTER


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/organizations/{id}/settings", None),
        ("patch", "/api/organizations/{id}/settings", {"TAKE_CONVERSATIONS": True}),
        ("get", "/api/organizations/{id}/members", None),
        ("post", "/api/organizations/{id}/members", {"username": "someone"}),
        ("get", "/api/organizations/{id}/campaigns", None),
        ("post", "/api/organizations/{id}/campaigns", {"title": "Mine now"}),
        ("get", "/api/organizations/{id}/strategies", None),
    ],
)
def test_texter_gets_403_on_admin_endpoints(api_as, organization, make_user, method, path, body):
    texter = make_user(organization, Role.VETTED_TEXTER)
    client = api_as(texter)
    url = path.format(id=organization.id)

    response = client.get(url) if method == "get" else getattr(client, method)(url, body)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "VETTED_TEXTER" in response.json()["message"]


def test_outsider_gets_404(api_as, organization, make_user):
    outsider = make_user(Organization.objects.create(name="Elsewhere"), Role.OWNER)

    response = api_as(outsider).get(f"/api/organizations/{organization.id}/settings")

    assert response.status_code == 404


def test_create_and_list_campaigns(api_as, admin, organization):
    client = api_as(admin)

    created = client.post(
        f"/api/organizations/{organization.id}/campaigns",
        {"title": "Get out the vote", "batch_size": 25, "use_dynamic_assignment": True,
         "settings": {"DYNAMICASSIGNMENT_BATCHES": "vetted-texters"}},
    )
    listed = client.get(f"/api/organizations/{organization.id}/campaigns").json()

    assert created.status_code == 201
    body = created.json()
    assert body["batch_size"] == 25
    assert body["is_started"] is False
    assert body["settings"] == {"DYNAMICASSIGNMENT_BATCHES": "vetted-texters"}
    assert body["resolved_settings"]["DYNAMICASSIGNMENT_BATCHES"] == "vetted-texters"
    assert body["join_path"] == f"/api/join/{body['join_token']}"
    assert [c["id"] for c in listed] == [body["id"]]


def test_create_campaign_with_unknown_strategy_is_422(api_as, admin, organization):
    response = api_as(admin).post(
        f"/api/organizations/{organization.id}/campaigns",
        {"title": "Typo", "settings": {"DYNAMICASSIGNMENT_BATCHES": "vetted-texter"}},
    )

    assert response.status_code == 422
    assert "'vetted-texter'" in response.json()["message"]


def test_create_campaign_with_bad_batch_size_is_422(api_as, admin, organization):
    response = api_as(admin).post(f"/api/organizations/{organization.id}/campaigns", {"title": "T", "batch_size": 0})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "batch_size"
