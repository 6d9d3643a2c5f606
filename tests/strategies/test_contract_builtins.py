"""The contract kit run against every built-in strategy, and against broken ones it must catch."""

from __future__ import annotations

import types

import pytest

from dynassign.assignment.strategies import (
    all_texters,
    finished_replies,
    finished_replies_tz,
    registry,
    testkit,
    vetted_takeconversations,
    vetted_texters,
)
from dynassign.assignment.strategies.base import BatchContext, Reason
from dynassign.assignment.strategies.testkit import StrategyContract, check_strategy
from dynassign.campaigns.models import Contact


class TestFinishedReplies(StrategyContract):
    strategy = finished_replies


class TestFinishedRepliesTz(StrategyContract):
    strategy = finished_replies_tz


class TestVettedTexters(StrategyContract):
    strategy = vetted_texters


class TestAllTexters(StrategyContract):
    strategy = all_texters


class TestVettedTakeconversations(StrategyContract):
    strategy = vetted_takeconversations


def test_builtins_all_covered():
    covered = {cls.strategy.name for cls in StrategyContract.__subclasses__() if cls.__module__ == __name__}
    builtins = {name for name, strategy in registry.all_strategies().items() if registry.source(name).entry_point is None}

    assert covered == builtins


def _strategy(name: str, count, **extra) -> types.SimpleNamespace:
    """Build a strategy object whose request_new_batch_count is ``count``."""
    return types.SimpleNamespace(name=name, display_name=lambda: f"Broken {name}", request_new_batch_count=count, **extra)


def _ignores_restrictions(context: BatchContext) -> int:
    return context.count(context.pool())


def test_kit_accepts_plain_pool_with_exemptions(db):
    strategy = _strategy(
        "pool-only", _ignores_restrictions, contract_exemptions={"archived-campaign", "max-contacts-zero"}
    )

    check_strategy(strategy)


def test_kit_rejects_archived_campaign_offer(db):
    strategy = _strategy("pool-only", _ignores_restrictions)

    with pytest.raises(AssertionError, match="archived campaign"):
        testkit.check_archived_campaign(strategy)


def test_kit_rejects_max_contacts_zero_offer(db):
    strategy = _strategy("pool-only", _ignores_restrictions)

    with pytest.raises(AssertionError, match="max_contacts 0"):
        testkit.check_max_contacts_zero(strategy)


def test_kit_rejects_unknown_exemption(db):
    strategy = _strategy("pool-only", _ignores_restrictions, contract_exemptions={"no-such-check"})

    with pytest.raises(AssertionError, match="no-such-check"):
        testkit.check_attributes(strategy)


@pytest.mark.parametrize("name", ["Bad-Name", "bad_name", "-bad", "bad-", "bad--name", "9lives", ""])
def test_kit_rejects_invalid_name(name):
    strategy = _strategy(name, _ignores_restrictions)

    with pytest.raises(AssertionError, match="invalid"):
        testkit.check_name_format(strategy)


def test_kit_rejects_missing_attribute():
    strategy = types.SimpleNamespace(name="no-count", display_name=lambda: "No count")

    with pytest.raises(AssertionError, match="request_new_batch_count"):
        testkit.check_attributes(strategy)


@pytest.mark.parametrize("value", [True, 2.0, -1, None])
def test_kit_rejects_count_not_natural(db, value):
    strategy = _strategy("odd-count", lambda context: value)

    with pytest.raises(AssertionError, match="request_new_batch_count"):
        testkit.check_count_type(strategy)


def test_kit_rejects_has_any_mismatch(db):
    def count(context: BatchContext) -> int:
        return 0 if context.has_any else context.count(context.pool())

    strategy = _strategy("lazy-has-any", count)

    with pytest.raises(AssertionError, match="has_any"):
        testkit.check_has_any(strategy)


def test_kit_rejects_strategy_offering_nothing(db):
    strategy = _strategy("never", lambda context: context.refuse(Reason.NOTHING_LEFT))

    with pytest.raises(AssertionError, match="offers-contacts"):
        testkit.check_offers_contacts(strategy)


def test_kit_rejects_opted_out_selection(db):
    def select_contacts(batch_query, has_current_query, context):
        return Contact.objects.filter(campaign_id=context.campaign.id, assignment__isnull=True), None

    strategy = _strategy("opted-out-too", _ignores_restrictions, select_contacts=select_contacts)

    with pytest.raises(AssertionError, match="opted-out"):
        testkit.check_select_contacts(strategy)


def test_kit_rejects_non_queryset_selection(db):
    strategy = _strategy(
        "list-selection", _ignores_restrictions, select_contacts=lambda batch, current, context: (list(batch), None)
    )

    with pytest.raises(AssertionError, match="QuerySet of Contact"):
        testkit.check_select_contacts(strategy)


def test_kit_rejects_taking_held_contacts(db):
    def select_contacts(batch_query, has_current_query, context):
        others = Contact.objects.filter(campaign_id=context.campaign.id, assignment__isnull=False, is_opted_out=False)
        return others.exclude(assignment_id=context.assignment.id), None

    strategy = _strategy("thief", _ignores_restrictions, select_contacts=select_contacts)

    with pytest.raises(AssertionError, match="another texter held"):
        testkit.check_request_batch(strategy)
