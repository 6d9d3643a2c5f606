"""Settings resolve campaign, organization, environment, default; bad values are rejected where set."""

from __future__ import annotations

import pytest

from dynassign.assignment.strategies import registry
from dynassign.campaigns.services import update_campaign
from dynassign.exceptions import ConfigurationError, InvalidValue
from dynassign.organizations import config
from dynassign.organizations.services import update_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in config.SETTINGS:
        monkeypatch.delenv(name, raising=False)


def test_default_when_nothing_set(make_campaign):
    campaign = make_campaign()

    assert config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign) is None
    assert config.resolve("TEXTING_HOURS_START", campaign=campaign) == 9
    assert config.resolve("DYNAMICASSIGNMENT_BATCHES", campaign=campaign) == "finished-replies"


def test_each_level_overrides_the_next(organization, make_campaign, monkeypatch, admin):
    campaign = make_campaign()
    monkeypatch.setenv("MAX_CONTACTS_PER_TEXTER", "300")
    assert config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign) == 300

    update_settings(organization.id, admin, {"MAX_CONTACTS_PER_TEXTER": 200})
    campaign.organization.refresh_from_db()
    assert config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign) == 200

    campaign = update_campaign(campaign.id, admin, settings={"MAX_CONTACTS_PER_TEXTER": 100})
    assert config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign) == 100

    campaign = update_campaign(campaign.id, admin, settings={"MAX_CONTACTS_PER_TEXTER": None})
    assert config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign) == 200


def test_zero_is_a_value_not_unset(organization, make_campaign, monkeypatch):
    monkeypatch.setenv("MAX_CONTACTS_PER_TEXTER", "300")
    campaign = make_campaign(settings={"MAX_CONTACTS_PER_TEXTER": 0})

    assert config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign) == 0


# DYNAMICASSIGNMENT_BATCHES


def test_campaign_list_enables_every_entry(make_campaign):
    campaign = make_campaign(strategies="vetted-texters, all-texters,vetted-takeconversations")

    assert registry.enabled_names(campaign) == ["vetted-texters", "all-texters", "vetted-takeconversations"]


def test_organization_list_enables_first_only(organization, make_campaign, admin):
    update_settings(organization.id, admin, {"DYNAMICASSIGNMENT_BATCHES": "all-texters,vetted-takeconversations"})
    campaign = make_campaign()
    campaign.organization.refresh_from_db()

    assert registry.enabled_names(campaign) == ["all-texters"]


def test_environment_list_enables_first_only(make_campaign, monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "vetted-texters,all-texters")
    campaign = make_campaign()

    assert registry.enabled_names(campaign) == ["vetted-texters"]


def test_default_strategy_is_finished_replies(make_campaign):
    assert registry.enabled_names(make_campaign()) == ["finished-replies"]


def test_campaign_list_beats_organization(organization, make_campaign, admin):
    update_settings(organization.id, admin, {"DYNAMICASSIGNMENT_BATCHES": "all-texters"})
    campaign = make_campaign(strategies="vetted-texters,finished-replies")

    assert registry.enabled_names(campaign) == ["vetted-texters", "finished-replies"]


# Unknown strategy names and invalid values are rejected where they are set.


def test_campaign_rejects_unknown_strategy(make_campaign, admin):
    campaign = make_campaign()

    with pytest.raises(ConfigurationError, match="'finished-replys'") as raised:
        update_campaign(campaign.id, admin, settings={"DYNAMICASSIGNMENT_BATCHES": "all-texters,finished-replys"})
    assert "finished-replies" in raised.value.message
    campaign.refresh_from_db()
    assert "DYNAMICASSIGNMENT_BATCHES" not in campaign.settings


def test_organization_rejects_unknown_strategy(organization, admin):
    with pytest.raises(ConfigurationError, match="'no-such'"):
        update_settings(organization.id, admin, {"DYNAMICASSIGNMENT_BATCHES": "no-such"})
    organization.refresh_from_db()
    assert organization.settings == {}


def test_environment_unknown_strategy_fails_check(monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "finished-replies,typo-strategy")

    with pytest.raises(ConfigurationError, match="'typo-strategy'") as raised:
        config.check_environment()
    assert "Environment variable DYNAMICASSIGNMENT_BATCHES" in raised.value.message


def test_environment_check_passes_when_valid(monkeypatch):
    monkeypatch.setenv("DYNAMICASSIGNMENT_BATCHES", "all-texters")
    monkeypatch.setenv("MAX_TEXTERS_PER_CAMPAIGN", "20")

    config.check_environment()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_TEXTERS_PER_CAMPAIGN", 0),
        ("MAX_TEXTERS_PER_CAMPAIGN", "many"),
        ("MAX_CONTACTS_PER_TEXTER", -1),
        ("MAX_CONTACTS_PER_TEXTER", True),
        ("BULK_SEND", "sometimes"),
        ("TEXTING_HOURS_START", 24),
        ("TEXTING_HOURS_END", 0),
        ("TIMEZONE", "Mars/Olympus"),
        ("DYNAMICASSIGNMENT_BATCHES", " , "),
        ("TAKE_CONVERSATIONS_BATCH_TYPE", "vetted-takeconversations,all-texters"),
    ],
)
def test_invalid_value_rejected_with_value(organization, admin, name, value):
    with pytest.raises(InvalidValue) as raised:
        update_settings(organization.id, admin, {name: value})

    assert name in raised.value.message
    organization.refresh_from_db()
    assert name not in organization.settings


def test_environment_invalid_number_fails_check(monkeypatch):
    monkeypatch.setenv("MAX_TEXTERS_PER_CAMPAIGN", "0")

    with pytest.raises(ConfigurationError, match="MAX_TEXTERS_PER_CAMPAIGN"):
        config.check_environment()


def test_environment_only_setting_rejected_per_organization(organization, admin):
    with pytest.raises(InvalidValue, match="environment variable"):
        update_settings(organization.id, admin, {"MESSAGE_HANDLERS": "outbound-unassign"})


def test_unknown_setting_rejected(organization, admin):
    with pytest.raises(InvalidValue, match="'MAX_TEXTERS'"):
        update_settings(organization.id, admin, {"MAX_TEXTERS": 3})


def test_values_stored_parsed(organization, make_campaign, admin):
    update_settings(organization.id, admin, {"BULK_SEND": "yes", "MAX_TEXTERS_PER_CAMPAIGN": " 12 "})
    campaign = make_campaign()
    campaign.organization.refresh_from_db()

    assert config.resolve("BULK_SEND", campaign=campaign) is True
    assert config.resolve("MAX_TEXTERS_PER_CAMPAIGN", campaign=campaign) == 12
