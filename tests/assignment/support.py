"""Helpers for service tests: a settable clock, simultaneous calls, sending a whole batch."""

from __future__ import annotations

import datetime as dt
import random
import threading
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.messaging.sending import send_message
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role

NEW_YORK = "America/New_York"
CHICAGO = "America/Chicago"
LOS_ANGELES = "America/Los_Angeles"


class Clock:
    """The time every service reads through ``django.utils.timezone.now``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.current: dt.datetime | None = None
        monkeypatch.setattr(timezone, "now", self.now)

    def now(self) -> dt.datetime:
        if self.current is None:
            return dt.datetime.now(dt.timezone.utc)
        return self.current

    def set(self, local_time: str, zone: str = NEW_YORK, day: dt.date = dt.date(2026, 6, 16)) -> dt.datetime:
        """Set the clock to ``local_time`` (HH:MM) in ``zone`` on ``day``, a summer Tuesday by default."""
        local = dt.datetime.combine(day, dt.time.fromisoformat(local_time), tzinfo=zoneinfo.ZoneInfo(zone))
        self.current = local.astimezone(dt.timezone.utc)
        return self.current


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def run_at_once(calls: list[Callable[[], Any]], *, threads: int | None = None, seed: int = 0) -> list[Any]:
    """Run ``calls`` from ``threads`` threads released together by a barrier; return results in call order.

    Each thread uses its own database connection and closes it when done. A
    call that raises returns its exception instead of a result. With fewer
    threads than calls, the calls are shuffled over the threads so that calls
    for one texter overlap rather than queue in one thread.
    """
    thread_count = threads or len(calls)
    order = list(range(len(calls)))
    random.Random(seed).shuffle(order)
    shares = [order[index::thread_count] for index in range(thread_count)]
    barrier = threading.Barrier(thread_count)
    results: list[Any] = [None] * len(calls)

    def work(share: list[int]) -> None:
        try:
            barrier.wait(timeout=60)
            for index in share:
                try:
                    results[index] = calls[index]()
                except Exception as error:  # noqa: BLE001 - returned to the test to assert on
                    results[index] = error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=thread_count) as pool:
        for future in [pool.submit(work, share) for share in shares]:
            future.result()
    return results


def errors_in(results: list[Any]) -> list[BaseException]:
    return [result for result in results if isinstance(result, BaseException)]


def make_users(count: int, organization: Organization | None = None, role: str = Role.TEXTER) -> list[Any]:
    """Create ``count`` users quickly (no password hashing), members of ``organization`` if given."""
    user_model = get_user_model()
    prefix = f"bulk{user_model.objects.count()}x"
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix}{index}", first_name=f"Texter{index}") for index in range(count)]
    )
    users = list(user_model.objects.filter(username__startswith=prefix).order_by("id"))
    if organization is not None:
        Membership.objects.bulk_create([Membership(user=user, organization=organization, role=role) for user in users])
    return users


def held(assignment: Assignment) -> int:
    return Contact.objects.filter(assignment_id=assignment.id).count()


def pool_size(campaign: Campaign) -> int:
    return Contact.objects.filter(
        campaign=campaign, assignment__isnull=True, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False
    ).count()


def assigned_total(campaign: Campaign) -> int:
    return Contact.objects.filter(campaign=campaign, assignment__isnull=False).count()


def unsent_of(assignment: Assignment) -> list[Contact]:
    return list(
        Contact.objects.filter(assignment_id=assignment.id, message_status=MessageStatus.NEEDS_MESSAGE).order_by("id")
    )


def send_all(assignment: Assignment, sender: Any = None, *, limit: int | None = None) -> int:
    """Send the initial message to the assignment's unsent contacts (up to ``limit``); return how many."""
    contacts = unsent_of(assignment)[:limit]
    for contact in contacts:
        send_message(contact.id, sender or assignment.texter, initial=True)
    return len(contacts)

