"""The contract kit: checks that a strategy keeps the promises dynassign relies on.

Run it from pytest against your own strategy, with pytest-django and the
dynassign settings (``DJANGO_SETTINGS_MODULE = "dynassign.settings"``)::

    from dynassign.assignment.strategies.testkit import StrategyContract

    import my_package.strategy


    class TestContract(StrategyContract):
        strategy = my_package.strategy

or call ``check_strategy(my_package.strategy)`` from a test that uses the
``db`` fixture. Every check builds its own organization, texters and
campaign in the test database and raises ``AssertionError`` naming the
broken promise.

A strategy that deliberately breaks a rule declares it, for example
``contract_exemptions = {"max-contacts-zero"}``; see ``EXEMPTIONS``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from dynassign.assignment.batches import counted_against_limit, request_batch
from dynassign.assignment.models import Assignment
from dynassign.assignment.strategies import registry
from dynassign.assignment.strategies.base import BatchContext
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.organizations.access import role_of
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role

# Checks a strategy may opt out of through its ``contract_exemptions`` attribute.
EXEMPTIONS = {
    "archived-campaign": "returns 0 for an archived campaign",
    "max-contacts-zero": "returns 0 for an assignment whose max_contacts is 0",
    "offers-contacts": "offers a vetted texter contacts in the kit's campaign, so the request checks assign something",
}

BATCH_SIZE = 5
# Below what two batches hold, so the request check reaches the limit.
MAX_CONTACTS = 7
_sequence = itertools.count(1)


@dataclass
class Scenario:
    """A started dynamic-assignment campaign with the strategy enabled and contacts in every state.

    ``texter`` and ``vetted`` hold nothing yet; ``other`` already holds
    contacts of several statuses, which no request may take from them.
    """

    organization: Organization
    campaign: Campaign
    texter: Assignment
    vetted: Assignment
    other: Assignment


def _new_assignment(campaign: Campaign, role: str, max_contacts: int | None) -> Assignment:
    number = next(_sequence)
    user = get_user_model().objects.create_user(
        username=f"contract-kit-{role.lower()}-{number}", password=None, first_name=f"Texter {number}"
    )
    Membership.objects.create(user=user, organization=campaign.organization, role=role)
    return Assignment.objects.create(campaign=campaign, texter=user, max_contacts=max_contacts)


def _add_contacts(campaign: Campaign, count: int, status: str, *, opted_out: bool = False, assignment: Assignment | None = None) -> None:
    contacts = []
    for _ in range(count):
        number = next(_sequence)
        contacts.append(
            Contact(
                campaign=campaign, first_name=f"First{number}", last_name=f"Last{number}",
                cell=f"+1212{3000000 + number:07d}", timezone="America/New_York",
                message_status=status, is_opted_out=opted_out, assignment=assignment,
            )
        )
    Contact.objects.bulk_create(contacts)


def build_scenario(strategy: Any, *, max_contacts: int | None = MAX_CONTACTS) -> Scenario:
    """Create the campaign every check starts from, with ``strategy`` as its only enabled strategy."""
    organization = Organization.objects.create(name=f"Contract kit organization {next(_sequence)}")
    campaign = Campaign.objects.create(
        organization=organization, title=f"Contract kit campaign {next(_sequence)}", script="Hi {firstName}!",
        is_started=True, use_dynamic_assignment=True, batch_size=BATCH_SIZE,
        settings={"DYNAMICASSIGNMENT_BATCHES": strategy.name}, contact_timezones=["America/New_York"],
    )
    scenario = Scenario(
        organization=organization,
        campaign=campaign,
        texter=_new_assignment(campaign, Role.TEXTER, max_contacts),
        vetted=_new_assignment(campaign, Role.VETTED_TEXTER, max_contacts),
        other=_new_assignment(campaign, Role.VETTED_TEXTER, None),
    )

    _add_contacts(campaign, 12, MessageStatus.NEEDS_MESSAGE)
    _add_contacts(campaign, 3, MessageStatus.NEEDS_MESSAGE, opted_out=True)
    _add_contacts(campaign, 3, MessageStatus.NEEDS_RESPONSE)
    _add_contacts(campaign, 2, MessageStatus.NEEDS_RESPONSE, opted_out=True)
    _add_contacts(campaign, 2, MessageStatus.CONVO)
    _add_contacts(campaign, 1, MessageStatus.CLOSED)
    _add_contacts(campaign, 2, MessageStatus.MESSAGED)
    for status in (MessageStatus.NEEDS_MESSAGE, MessageStatus.NEEDS_RESPONSE, MessageStatus.CONVO):
        _add_contacts(campaign, 2, status, assignment=scenario.other)
    return scenario


def make_context(assignment: Assignment, *, has_any: bool = False) -> BatchContext:
    """Return the context a batch request would hand the strategy for ``assignment``, read fresh."""
    assignment = Assignment.objects.select_related("campaign__organization", "texter").get(id=assignment.id)
    campaign = assignment.campaign
    return BatchContext(
        organization=campaign.organization,
        campaign=campaign,
        assignment=assignment,
        texter=assignment.texter,
        role=role_of(assignment.texter, campaign.organization_id),
        has_any=has_any,
        limit=campaign.batch_size or 1,
        now=timezone.now(),
    )


def exemptions(strategy: Any) -> set[str]:
    """Return the checks ``strategy`` opts out of, refusing names the kit does not know."""
    declared = set(getattr(strategy, "contract_exemptions", ()) or ())
    unknown = declared - set(EXEMPTIONS)
    assert not unknown, (
        f"contract_exemptions of strategy {getattr(strategy, 'name', strategy)!r} names unknown checks "
        f"{sorted(unknown)}; known: {sorted(EXEMPTIONS)}."
    )
    return declared


def _count(strategy: Any, assignment: Assignment, *, has_any: bool = False) -> int:
    count = strategy.request_new_batch_count(make_context(assignment, has_any=has_any))
    assert isinstance(count, int) and not isinstance(count, bool), (
        f"request_new_batch_count of {strategy.name!r} returned {count!r} ({type(count).__name__}); it must return an int."
    )
    assert count >= 0, f"request_new_batch_count of {strategy.name!r} returned {count}; it must be 0 or more."
    return count


def check_attributes(strategy: Any) -> None:
    """Check that the strategy has a name, a display name and request_new_batch_count."""
    assert strategy is not None, "No strategy given: set `strategy = your_module` on the contract class."
    for attribute in ("name", "display_name", "request_new_batch_count"):
        assert hasattr(strategy, attribute), f"Strategy {strategy!r} lacks {attribute!r}."
    assert isinstance(strategy.name, str), f"Strategy name must be a str, not {type(strategy.name).__name__}."
    assert callable(strategy.request_new_batch_count), f"request_new_batch_count of {strategy.name!r} is not callable."
    title = strategy.display_name()
    assert isinstance(title, str) and title.strip(), (
        f"display_name() of {strategy.name!r} returned {title!r}; it must return a non-empty title."
    )
    select_contacts = getattr(strategy, "select_contacts", None)
    assert select_contacts is None or callable(select_contacts), f"select_contacts of {strategy.name!r} is not callable."
    exemptions(strategy)


def check_name_format(strategy: Any) -> None:
    """Check that the name can be typed into a DYNAMICASSIGNMENT_BATCHES list."""
    assert registry.is_valid_name(strategy.name), (
        f"Strategy name {strategy.name!r} is invalid: use lowercase letters, digits and single hyphens, "
        "starting with a letter, for example 'small-batches'."
    )


def check_count_type(strategy: Any) -> None:
    """Check that request_new_batch_count returns an int of 0 or more for texters and vetted texters."""
    scenario = build_scenario(strategy)
    for assignment in (scenario.texter, scenario.vetted, scenario.other):
        _count(strategy, assignment)


def check_offers_contacts(strategy: Any) -> None:
    """Check that a vetted texter holding nothing is offered contacts, so the request check means something."""
    if "offers-contacts" in exemptions(strategy):
        return
    scenario = build_scenario(strategy)
    assert _count(strategy, scenario.vetted) > 0, (
        f"Strategy {strategy.name!r} offers a vetted texter nothing in a started campaign with unassigned contacts "
        "of every status; if that is intended, add 'offers-contacts' to its contract_exemptions."
    )


def check_archived_campaign(strategy: Any) -> None:
    """Check that an archived campaign hands out nothing."""
    if "archived-campaign" in exemptions(strategy):
        return
    scenario = build_scenario(strategy)
    Campaign.objects.filter(id=scenario.campaign.id).update(is_archived=True)
    for assignment in (scenario.texter, scenario.vetted):
        for has_any in (False, True):
            count = _count(strategy, assignment, has_any=has_any)
            assert count == 0, (
                f"Strategy {strategy.name!r} offers {count} contacts in an archived campaign (has_any={has_any}); "
                "it must return 0, or declare 'archived-campaign' in contract_exemptions."
            )


def check_max_contacts_zero(strategy: Any) -> None:
    """Check that an assignment whose max_contacts is 0 is offered nothing."""
    if "max-contacts-zero" in exemptions(strategy):
        return
    scenario = build_scenario(strategy, max_contacts=0)
    for assignment in (scenario.texter, scenario.vetted):
        for has_any in (False, True):
            count = _count(strategy, assignment, has_any=has_any)
            assert count == 0, (
                f"Strategy {strategy.name!r} offers {count} contacts to an assignment with max_contacts 0 "
                f"(has_any={has_any}); it must return 0, or declare 'max-contacts-zero' in contract_exemptions."
            )


def check_has_any(strategy: Any) -> None:
    """Check that has_any gives 0 exactly when the full count is 0, and a positive number otherwise."""
    scenario = build_scenario(strategy)
    for assignment in (scenario.texter, scenario.vetted):
        full = _count(strategy, assignment)
        quick = _count(strategy, assignment, has_any=True)
        assert (quick > 0) == (full > 0), (
            f"Strategy {strategy.name!r} returns {quick} with has_any set but {full} without it; "
            "with has_any it must return 0 exactly when the full count is 0."
        )


def _default_has_current(assignment: Assignment) -> QuerySet[Contact]:
    return Contact.objects.filter(
        assignment_id=assignment.id, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False
    )


def _check_query(strategy: Any, role: str, query: Any) -> None:
    if query is None:
        return
    assert isinstance(query, QuerySet) and query.model is Contact, (
        f"select_contacts of {strategy.name!r} returned {query!r} as its {role}; it must be a QuerySet of Contact or None."
    )


def check_select_contacts(strategy: Any) -> None:
    """Check that select_contacts returns Contact QuerySets (or None) that hold no opted-out contact."""
    select_contacts = getattr(strategy, "select_contacts", None)
    if select_contacts is None:
        return
    scenario = build_scenario(strategy)
    for assignment in (scenario.texter, scenario.vetted):
        context = make_context(assignment)
        default_batch = context.pool()
        result = select_contacts(default_batch, _default_has_current(assignment), context)
        if result is None:
            continue
        assert isinstance(result, (tuple, list)) and len(result) == 2, (
            f"select_contacts of {strategy.name!r} returned {result!r}; "
            "it must return (batch_query, has_current_query) or None."
        )
        batch_query, has_current_query = result
        _check_query(strategy, "batch query", batch_query)
        _check_query(strategy, "has-current query", has_current_query)
        if batch_query is None:
            continue
        opted_out = list(batch_query.filter(is_opted_out=True).values_list("id", flat=True))
        assert not opted_out, f"The batch query of {strategy.name!r} selects opted-out contacts {opted_out}."
        elsewhere = list(batch_query.exclude(campaign_id=scenario.campaign.id).values_list("id", flat=True))
        assert not elsewhere, f"The batch query of {strategy.name!r} selects contacts {elsewhere} of other campaigns."


def _holders(campaign: Campaign) -> dict[int, int]:
    rows = Contact.objects.filter(campaign=campaign, assignment__isnull=False).values_list("id", "assignment_id")
    return dict(rows)


def _send_everything(assignment: Assignment) -> None:
    """Stand in for a texter who sends every initial text and responds to every reply they have."""
    held = Contact.objects.filter(assignment_id=assignment.id)
    held.filter(message_status=MessageStatus.NEEDS_MESSAGE).update(message_status=MessageStatus.MESSAGED)
    held.filter(message_status=MessageStatus.NEEDS_RESPONSE).update(message_status=MessageStatus.CONVO)


def _check_one_request(strategy: Any, scenario: Scenario, assignment: Assignment) -> int:
    before = _holders(scenario.campaign)
    result = request_batch(assignment.id, batch_type=strategy.name)
    after = _holders(scenario.campaign)

    taken = sorted(
        contact_id for contact_id, holder in before.items()
        if holder != assignment.id and after.get(contact_id) == assignment.id
    )
    assert not taken, f"A request with {strategy.name!r} assigned contacts {taken}, which another texter held."
    new = [contact_id for contact_id, holder in after.items() if holder == assignment.id and before.get(contact_id) != holder]
    assert result.assigned == len(new), (
        f"A request with {strategy.name!r} reported {result.assigned} assigned but {len(new)} contacts moved."
    )
    opted_out = list(Contact.objects.filter(id__in=new, is_opted_out=True).values_list("id", flat=True))
    assert not opted_out, f"A request with {strategy.name!r} assigned opted-out contacts {opted_out}."
    fresh = Assignment.objects.get(id=assignment.id)
    if fresh.max_contacts is not None:
        counted = counted_against_limit(fresh)
        assert counted <= fresh.max_contacts, (
            f"A request with {strategy.name!r} left assignment {fresh.id} with {counted} contacts "
            f"counted against max_contacts {fresh.max_contacts}."
        )
    return result.assigned


def check_request_batch(strategy: Any) -> None:
    """Check real batch requests: nobody else's contact, no opted-out contact, never past max_contacts."""
    scenario = build_scenario(strategy)
    blocked = _new_assignment(scenario.campaign, Role.VETTED_TEXTER, 0)
    loaded = registry.all_strategies().get(strategy.name)
    scope = nullcontext() if loaded is strategy else registry.registered(strategy)
    with scope:
        for _ in range(4):
            for assignment in (scenario.texter, scenario.vetted):
                _check_one_request(strategy, scenario, assignment)
                _send_everything(assignment)
        assigned = _check_one_request(strategy, scenario, blocked)
    assert assigned == 0, f"A request with {strategy.name!r} assigned {assigned} contacts to an assignment with max_contacts 0."


CHECKS: list[Callable[[Any], None]] = [
    check_attributes,
    check_name_format,
    check_count_type,
    check_offers_contacts,
    check_archived_campaign,
    check_max_contacts_zero,
    check_has_any,
    check_select_contacts,
    check_request_batch,
]


def check_strategy(strategy: Any, *, skip: Iterable[str] = ()) -> None:
    """Run every contract check against ``strategy``; call it from a test that uses the ``db`` fixture.

    ``skip`` names checks to leave out by function name, such as ``"check_request_batch"``.
    """
    left_out = set(skip)
    for check in CHECKS:
        if check.__name__ not in left_out:
            check(strategy)


class StrategyContract:
    """Subclass as ``TestSomething`` with ``strategy = your_module`` to run each check as its own test."""

    strategy: ClassVar[Any] = None

    @pytest.fixture(autouse=True)
    def _database(self, db: None) -> None:
        """Give every contract test the pytest-django test database."""

    def test_attributes(self) -> None:
        check_attributes(self.strategy)

    def test_name_format(self) -> None:
        check_name_format(self.strategy)

    def test_count_type(self) -> None:
        check_count_type(self.strategy)

    def test_offers_contacts(self) -> None:
        check_offers_contacts(self.strategy)

    def test_archived_campaign(self) -> None:
        check_archived_campaign(self.strategy)

    def test_max_contacts_zero(self) -> None:
        check_max_contacts_zero(self.strategy)

    def test_has_any(self) -> None:
        check_has_any(self.strategy)

    def test_select_contacts(self) -> None:
        check_select_contacts(self.strategy)

    def test_request_batch(self) -> None:
        check_request_batch(self.strategy)
