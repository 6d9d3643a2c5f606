"""Pages for texters: the join link, the to-do list, texting, replies, requesting and releasing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dynassign.assignment.batches import Offer, offer, request_batch
from dynassign.assignment.counts import assignment_counts
from dynassign.assignment.joining import join_by_link
from dynassign.assignment.models import Assignment
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.campaigns.texting_hours import TextingHours
from dynassign.exceptions import DynassignError, InvalidJoinLink, NotFound
from dynassign.messaging.sending import close_contact, opt_out, render_script, send_message
from dynassign.organizations import config
from dynassign.organizations.access import role_of
from dynassign.organizations.roles import Role, has_role
from dynassign.web.views.common import admin_organizations, count_of, error_page, member_view, own_assignment

log = logging.getLogger(__name__)

START_LABEL = "Start texting"


@dataclass(frozen=True)
class Controls:
    """The controls a texter sees in one campaign, resolved from its settings and the offers."""

    show_request: bool
    offer: Offer | None
    request_label: str
    request_message: str
    nothing_to_do: str
    take_offer: Offer | None
    take_size: int
    release_contacts: bool
    release_conversations: bool

    @property
    def reason(self) -> str:
        if self.offer is None or self.offer.count > 0 or self.offer.reason is None:
            return ""
        return self.offer.reason.value


def controls_for(assignment: Assignment, counts: dict[str, int]) -> Controls:
    """Resolve the texter UI settings of the assignment's campaign and ask for the offers."""
    campaign = assignment.campaign
    settings = config.resolve_all(campaign=campaign)
    vetted = has_role(role_of(assignment.texter, campaign.organization_id), Role.VETTED_TEXTER)

    show_request = bool(settings["DYNAMIC_ASSIGNMENT_CONTROLS"])
    current_offer = offer(assignment.id) if show_request else None
    first_batch = assignment.batch_count == 0 and counts["held"] == 0
    idle = counts["to_send"] == 0 and counts["replies"] == 0

    take_offer = None
    if settings["TAKE_CONVERSATIONS"] and vetted:
        take_offer = offer(assignment.id, batch_type=settings["TAKE_CONVERSATIONS_BATCH_TYPE"])
    conversations_allowed = bool(settings["RELEASE_CONVERSATIONS"]) and (
        vetted or not settings["RELEASE_CONVERSATIONS_VETTED_ONLY"]
    )
    return Controls(
        show_request=show_request,
        offer=current_offer,
        request_label=START_LABEL if first_batch else settings["REQUEST_LABEL"],
        request_message="" if first_batch else settings["REQUEST_MESSAGE"],
        nothing_to_do=settings["NOTHING_TO_DO_MESSAGE"] if idle else "",
        take_offer=take_offer,
        take_size=settings["TAKE_CONVERSATIONS_BATCH_SIZE"],
        release_contacts=bool(settings["RELEASE_CONTACTS"]),
        release_conversations=conversations_allowed,
    )


def campaign_card(assignment: Assignment) -> dict[str, Any]:
    counts = assignment_counts(assignment)
    return {"assignment": assignment, "campaign": assignment.campaign, "counts": counts,
            "controls": controls_for(assignment, counts)}


@login_required
def todo(request: HttpRequest) -> HttpResponse:
    """List every campaign of the texter with what waits in it and the request control."""
    assignments = (
        Assignment.objects.select_related("campaign__organization", "texter")
        .filter(texter=request.user)
        .order_by("campaign__is_archived", "-created_at")
    )
    cards = [campaign_card(assignment) for assignment in assignments]
    return render(request, "web/todo.html", {"cards": cards, "admin_memberships": admin_organizations(request.user)})


@login_required
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Join the campaign behind a join link and land in it, or explain why not."""
    try:
        result = join_by_link(request.user, token)
    except InvalidJoinLink as error:
        archived = Campaign.objects.filter(join_token=token, is_archived=True).exists()
        title = "This campaign has ended" if archived else "This link does not work"
        return error_page(request, error, title=title)
    except DynassignError as error:
        return error_page(request, error, title="You cannot join this campaign")
    if result.created:
        messages.success(request, f"Welcome to {result.assignment.campaign.title}.")
    return redirect("texting", assignment_id=result.assignment.id)


def _next_contact(assignment: Assignment) -> Contact | None:
    """Return the texter's next contact to send the initial message to, within texting hours."""
    unsent = Contact.objects.filter(
        assignment_id=assignment.id, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False
    )
    zones = TextingHours(assignment.campaign).zones_open(timezone.now())
    if zones is not None:
        unsent = unsent.filter(timezone__in=zones)
    return unsent.order_by("id").first()


def _render_texting(request: HttpRequest, assignment: Assignment, *, error: str = "", status: int = 200) -> HttpResponse:
    card = campaign_card(assignment)
    contact = _next_contact(assignment)
    context = {
        **card,
        "card": card,
        "contact": contact,
        "message": render_script(assignment.campaign.script, contact, request.user) if contact else "",
        "error": error,
    }
    return render(request, "web/texting.html", context, status=status)


@member_view
def texting(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Show one contact at a time with the filled-in script, or the request control when done."""
    return _render_texting(request, own_assignment(request, assignment_id))


def _held_contact(assignment: Assignment, contact_id: int) -> Contact:
    contact = Contact.objects.filter(id=contact_id, assignment_id=assignment.id).first()
    if contact is None:
        raise NotFound(
            f"Contact {contact_id} is no longer assigned to you; it may have been reassigned or released."
        )
    return contact


def _back(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    """Return to the replies list when the action came from a conversation, else to texting."""
    page = "replies" if request.POST.get("back") == "replies" else "texting"
    return redirect(page, assignment_id=assignment.id)


@require_POST
@member_view
def send_initial(request: HttpRequest, assignment_id: int, contact_id: int) -> HttpResponse:
    assignment = own_assignment(request, assignment_id)
    contact = _held_contact(assignment, contact_id)
    try:
        send_message(contact.id, request.user, initial=True)
    except DynassignError as error:
        return _render_texting(request, assignment, error=error.message, status=error.status)
    return redirect("texting", assignment_id=assignment.id)


@require_POST
@member_view
def skip(request: HttpRequest, assignment_id: int, contact_id: int) -> HttpResponse:
    """Close the contact without texting it, or close a finished conversation."""
    assignment = own_assignment(request, assignment_id)
    contact = _held_contact(assignment, contact_id)
    close_contact(contact.id, request.user)
    return _back(request, assignment)


@require_POST
@member_view
def opt_out_contact(request: HttpRequest, assignment_id: int, contact_id: int) -> HttpResponse:
    assignment = own_assignment(request, assignment_id)
    contact = _held_contact(assignment, contact_id)
    opt_out(contact.id, request.user, reason=f"opted out by texter {request.user.username}")
    messages.info(request, f"{contact.full_name} is opted out; nobody in {assignment.campaign.organization} can text them again.")
    return _back(request, assignment)


@require_POST
@member_view
def request_texts(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Request the next batch with the campaign's default strategy."""
    assignment = own_assignment(request, assignment_id)
    result = request_batch(assignment.id, caller=request.user)
    if result.assigned:
        messages.success(request, f"You have {count_of(result.assigned, 'new contact')} to text.")
        return redirect("texting", assignment_id=assignment.id)
    reason = result.offer.reason.value if result.offer.reason else "Nothing to hand out right now."
    messages.warning(request, f"No new contacts: {reason}")
    return redirect("home")


@require_POST
@member_view
def take_conversations(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Take conversations nobody holds, with the take-conversations batch size and type."""
    assignment = own_assignment(request, assignment_id)
    campaign = assignment.campaign
    if not config.resolve("TAKE_CONVERSATIONS", campaign=campaign):
        raise NotFound("Taking conversations is turned off for this campaign.")
    result = request_batch(
        assignment.id,
        caller=request.user,
        requested=config.resolve("TAKE_CONVERSATIONS_BATCH_SIZE", campaign=campaign),
        batch_type=config.resolve("TAKE_CONVERSATIONS_BATCH_TYPE", campaign=campaign),
    )
    if result.assigned:
        messages.success(request, f"You took {count_of(result.assigned, 'conversation')}.")
        return redirect("replies", assignment_id=assignment.id)
    reason = result.offer.reason.value if result.offer.reason else "No conversations to take right now."
    messages.warning(request, f"No conversations taken: {reason}")
    return redirect("home")


@member_view
def replies(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """List the texter's conversations, those waiting for an answer first."""
    assignment = own_assignment(request, assignment_id)
    held = Contact.objects.filter(assignment_id=assignment.id).exclude(message_status=MessageStatus.NEEDS_MESSAGE)
    waiting = held.filter(message_status=MessageStatus.NEEDS_RESPONSE).order_by("updated_at")
    others = held.exclude(message_status=MessageStatus.NEEDS_RESPONSE).order_by("-updated_at")
    card = campaign_card(assignment)
    context = {**card, "card": card, "waiting": waiting, "others": others}
    return render(request, "web/replies.html", context)


@member_view
def conversation(request: HttpRequest, assignment_id: int, contact_id: int) -> HttpResponse:
    """Show a contact's messages with a reply box; POST sends the reply."""
    assignment = own_assignment(request, assignment_id)
    contact = _held_contact(assignment, contact_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            send_message(contact.id, request.user, text=request.POST.get("text", ""))
        except DynassignError as refusal:
            error, status = refusal.message, refusal.status
        else:
            return redirect("conversation", assignment_id=assignment.id, contact_id=contact.id)
    context = {
        "assignment": assignment,
        "campaign": assignment.campaign,
        "contact": contact,
        "thread": contact.messages.all(),
        "error": error,
        "draft": request.POST.get("text", "") if error else "",
    }
    return render(request, "web/conversation.html", context, status=status)


@member_view
def release_contacts(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Confirm how many contacts a release gives back, then release them."""
    assignment = own_assignment(request, assignment_id)
    card = campaign_card(assignment)
    if request.method == "POST":
        conversations = request.POST.get("conversations") == "1"
        result = release(assignment.id, request.user, conversations=conversations)
        messages.success(request, f"Released {count_of(result.released, 'contact')} back to {assignment.campaign.title}.")
        return redirect("home")
    held = Contact.objects.filter(assignment_id=assignment.id)
    context = {
        **card,
        "card": card,
        "unsent": held.filter(message_status=MessageStatus.NEEDS_MESSAGE).count(),
        "conversations": held.exclude(message_status=MessageStatus.NEEDS_MESSAGE).count(),
    }
    return render(request, "web/release.html", context)
