"""The live dashboard of a campaign: totals, texters, batches over time and the assignment history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pygal
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from dynassign.assignment.counts import campaign_counts
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.campaigns import services
from dynassign.campaigns.models import Campaign, MessageStatus
from dynassign.exceptions import InvalidValue
from dynassign.web.views.common import member_view

BUCKET = dt.timedelta(minutes=10)
CHART_BUCKETS = 18
ACTIVE_WINDOW = dt.timedelta(minutes=30)
HISTORY_ROWS = 50
POLL_SECONDS = 5


def _bucket_start(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=moment.minute - moment.minute % 10, second=0, microsecond=0)


def batches_chart(campaign: Campaign, now: dt.datetime) -> str:
    """Render batches and contacts handed out per 10 minutes over the last three hours as inline SVG."""
    last = _bucket_start(now)
    first = last - BUCKET * (CHART_BUCKETS - 1)
    events = AssignmentEvent.objects.filter(
        campaign_id=campaign.id, kind__in=[EventKind.BATCH, EventKind.TAKEN], created_at__gte=first
    ).values_list("created_at", "contact_count")
    batches = [0] * CHART_BUCKETS
    contacts = [0] * CHART_BUCKETS
    for created_at, contact_count in events:
        index = min(int((created_at - first) / BUCKET), CHART_BUCKETS - 1)
        batches[index] += 1
        contacts[index] += contact_count

    local_zone = timezone.get_current_timezone()
    labels = [(first + BUCKET * index).astimezone(local_zone).strftime("%H:%M") for index in range(CHART_BUCKETS)]
    chart = pygal.Bar(
        title="Handed out per 10 minutes",
        height=320,
        show_legend=True,
        legend_at_bottom=True,
        x_label_rotation=45,
        disable_xml_declaration=True,
        js=[],  # no script from a third-party host; the chart is static SVG
    )
    chart.x_labels = labels
    # Batches go on the secondary axis: a batch contains many contacts, so one
    # scale would flatten the batch bars.
    chart.add("Contacts", contacts)
    chart.add("Batches", batches, secondary=True)
    return chart.render(is_unicode=True)


def active_texters(campaign: Campaign, now: dt.datetime) -> int:
    """Count texters who received a batch or took conversations in the last 30 minutes."""
    return (
        AssignmentEvent.objects.filter(
            campaign_id=campaign.id, kind__in=[EventKind.BATCH, EventKind.TAKEN], created_at__gte=now - ACTIVE_WINDOW
        )
        .values("to_assignment")
        .distinct()
        .count()
    )


def _history(campaign: Campaign, kind: str, texter_id: int | None) -> list[AssignmentEvent]:
    events = AssignmentEvent.objects.select_related(
        "actor", "from_assignment__texter", "to_assignment__texter"
    ).filter(campaign_id=campaign.id)
    if kind:
        events = events.filter(kind=kind)
    if texter_id:
        events = events.filter(Q(from_assignment__texter_id=texter_id) | Q(to_assignment__texter_id=texter_id))
    return list(events.order_by("-created_at", "-id")[:HISTORY_ROWS])


def _filters(request: HttpRequest) -> tuple[str, int | None]:
    kind = request.GET.get("kind", "")
    if kind and kind not in EventKind.values:
        raise InvalidValue(f"Unknown event kind {kind!r}; use one of {', '.join(EventKind.values)}.")
    raw_texter = request.GET.get("texter", "")
    if raw_texter and not raw_texter.isdigit():
        raise InvalidValue(f"texter must be a texter's id, not {raw_texter!r}.")
    return kind, int(raw_texter) if raw_texter else None


def _live_context(campaign: Campaign, request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    kind, texter_id = _filters(request)
    counts = campaign_counts(campaign)
    return {
        "campaign": campaign,
        "counts": counts,
        "statuses": [(status, counts[status]) for status in MessageStatus.values],
        "active_texters": active_texters(campaign, now),
        # pygal builds the SVG from numbers and times only, so nothing in it comes from users.
        "chart": mark_safe(batches_chart(campaign, now)),
        "history": _history(campaign, kind, texter_id),
        "kind": kind,
        "texter_id": texter_id,
        "updated_at": now,
        "poll_seconds": POLL_SECONDS,
    }


@member_view
def dashboard(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Show the campaign's live dashboard; the live part refreshes itself every few seconds."""
    campaign = services.get_campaign(campaign_id, request.user)
    texters = Assignment.objects.select_related("texter").filter(campaign=campaign).order_by("texter__username")
    context = {**_live_context(campaign, request), "texters": texters, "kinds": EventKind.choices}
    return render(request, "web/dashboard.html", context)


@member_view
def live(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Render the live part of the dashboard alone, for htmx polling."""
    campaign = services.get_campaign(campaign_id, request.user)
    return render(request, "web/_dashboard_live.html", _live_context(campaign, request))
