"""Request and response bodies of the JSON API; the OpenAPI document is generated from them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from dynassign.assignment.models import EventKind
from dynassign.campaigns.models import MessageStatus


class ErrorOut(Schema):
    error: str = Field(description="Machine-readable error code, such as not_found or campaign_full.")
    message: str = Field(description="What failed and what to do next.")


# --- users and sign-in -------------------------------------------------------


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str


class MembershipOut(Schema):
    organization_id: int
    organization_name: str
    role: str


class MeOut(Schema):
    user: UserOut
    memberships: list[MembershipOut]


class SignupIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)


class SignupOut(Schema):
    user: UserOut
    token: str = Field(description="API token for 'Authorization: Bearer <token>'; shown only once.")


class CredentialsIn(Schema):
    username: str
    password: str


class LoginOut(Schema):
    user: UserOut
    csrf_token: str = Field(description="Send as the X-CSRFToken header on POST, PATCH and DELETE in this session.")


class TokenOut(Schema):
    token: str = Field(description="API token for 'Authorization: Bearer <token>'; shown only once.")


class LogoutOut(Schema):
    signed_out: bool
    token_revoked: bool


# --- texters -------------------------------------------------------------------


class OfferOut(Schema):
    count: int = Field(description="Contacts a request would assign now; the request button shows when above 0.")
    strategy: str
    reason: str | None = Field(description="Why the offer is 0, as a code such as replies_pending.")
    reason_message: str | None


class AssignmentCountsOut(Schema):
    held: int
    to_send: int
    replies: int
    messaged: int
    convo: int
    closed: int
    opted_out: int
    past_hours: int
    counted_against_limit: int


class TexterUiOut(Schema):
    """The texter UI settings resolved for one texter in one campaign."""

    DYNAMIC_ASSIGNMENT_CONTROLS: bool
    REQUEST_LABEL: str
    REQUEST_MESSAGE: str
    NOTHING_TO_DO_MESSAGE: str
    RELEASE_CONTACTS: bool
    RELEASE_CONVERSATIONS: bool
    TAKE_CONVERSATIONS: bool
    TAKE_CONVERSATIONS_BATCH_SIZE: int | None = Field(description="Set only for vetted texters.")
    TAKE_CONVERSATIONS_BATCH_TYPE: str | None = Field(description="Set only for vetted texters.")


class AssignmentOut(Schema):
    id: int
    campaign_id: int
    campaign_title: str
    campaign_is_archived: bool
    max_contacts: int | None
    batch_count: int
    counts: AssignmentCountsOut
    offer: OfferOut
    ui: TexterUiOut


class BatchIn(Schema):
    count: int | None = Field(None, ge=1, description="Contacts wanted; never more than the strategy and limits allow.")
    batch_type: str | None = Field(None, description="Strategy name; the campaign's default when empty.")


class BatchOut(Schema):
    found: bool
    assigned: int
    offer: OfferOut
    counts: AssignmentCountsOut


class ReleaseIn(Schema):
    conversations: bool = Field(False, description="Also release conversations, when the campaign allows it.")


class ReleaseOut(Schema):
    released: int
    counts: AssignmentCountsOut


class ContactFilter(Schema):
    status: MessageStatus | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    cell: str
    zip: str
    timezone: str
    message_status: str
    is_opted_out: bool
    updated_at: dt.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class MessageOut(Schema):
    id: int
    direction: str
    text: str
    assignment_id: int | None
    created_at: dt.datetime


class ContactDetailOut(ContactOut):
    campaign_id: int
    assignment_id: int | None
    external_id: str
    custom_fields: dict[str, Any]
    script: str = Field(description="The campaign's initial message filled from this contact.")
    messages: list[MessageOut]


class SendIn(Schema):
    text: str | None = Field(None, description="Message text; without it the initial message is the rendered script.")
    initial: bool = Field(False, description="Send the initial message; does nothing when it was already sent.")


class SendOut(Schema):
    sent: bool
    status: str
    message: MessageOut | None


class OptOutOut(Schema):
    opted_out_contacts: int = Field(description="Contacts with this cell marked opted out across the organization.")


class CloseOut(Schema):
    status: str


# --- organizations -----------------------------------------------------------


class OrganizationIn(Schema):
    name: str = Field(min_length=1, max_length=200)


class OrganizationOut(Schema):
    id: int
    name: str
    role: str


class SettingOut(Schema):
    name: str
    value: Any = Field(description="The value in effect for this organization.")
    override: Any = Field(description="The organization's own value; null when it inherits.")
    default: Any
    help: str


class StrategyOut(Schema):
    name: str
    display_name: str


class MemberOut(Schema):
    user_id: int
    username: str
    first_name: str
    last_name: str
    role: str


class MemberIn(Schema):
    username: str
    role: str = "TEXTER"


class RoleIn(Schema):
    role: str


# --- campaigns -------------------------------------------------------------------


class CampaignIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    script: str = ""
    use_dynamic_assignment: bool = False
    batch_size: int | None = Field(None, ge=1)
    response_window: int = Field(48, ge=0, description="Hours a reply may wait before it is stale.")
    due_at: dt.datetime | None = None
    settings: dict[str, Any] = Field(default_factory=dict, description="Setting overrides, by setting name.")


class CampaignPatch(Schema):
    """Only the fields present change; ``null`` for a setting removes the override."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    script: str | None = None
    use_dynamic_assignment: bool | None = None
    batch_size: int | None = Field(None, ge=1)
    response_window: int | None = Field(None, ge=0)
    due_at: dt.datetime | None = None
    settings: dict[str, Any] | None = None


class CampaignSummaryOut(Schema):
    id: int
    title: str
    is_started: bool
    is_archived: bool
    use_dynamic_assignment: bool
    batch_size: int | None
    created_at: dt.datetime


class CampaignOut(CampaignSummaryOut):
    organization_id: int
    description: str
    script: str
    response_window: int
    due_at: dt.datetime | None
    settings: dict[str, Any] = Field(description="The campaign's own setting overrides.")
    resolved_settings: dict[str, Any] = Field(description="Every setting as it applies to this campaign.")
    join_token: str
    join_path: str = Field(description="API path a signed-in texter POSTs to join.")


class RejectedRowOut(Schema):
    line: int
    column: str | None
    code: str
    message: str


class ImportReportOut(Schema):
    imported: int
    rejected: int
    rows: list[RejectedRowOut]


class PageFilter(Schema):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class TexterOut(Schema):
    assignment_id: int
    texter: UserOut
    role: str | None
    max_contacts: int | None
    counts: AssignmentCountsOut


class TexterPage(Schema):
    items: list[TexterOut]
    next_offset: int | None


class MaxContactsIn(Schema):
    max_contacts: int | None = Field(description="0 blocks new contacts; null removes the limit.")


class MaxContactsOut(Schema):
    assignment_id: int
    max_contacts: int | None


class ReassignIn(Schema):
    statuses: list[str] | None = Field(None, description="Message statuses to move; all when empty.")
    from_texter_ids: list[int] | None = Field(None, description="Take from these texters; every texter when empty.")
    to_texter_ids: list[int] | None = Field(None, description="Split among these texters; back to the pool when empty.")
    count: int | None = Field(None, ge=1, description="Move at most this many contacts.")


class ReassignTargetOut(Schema):
    texter_id: int | None = Field(description="null stands for the pool.")
    count: int


class ReassignOut(Schema):
    moved: int
    targets: list[ReassignTargetOut]


class StatsOut(Schema):
    total: int
    assigned: int
    unassigned: int
    pool: int = Field(description="Unassigned, needsMessage, not opted out: what texters can request.")
    opted_out: int
    unsent: int
    needsMessage: int
    messaged: int
    needsResponse: int
    convo: int
    closed: int
    texters: int
    initial_texts_complete: bool


class HistoryFilter(PageFilter):
    kind: EventKind | None = None
    texter_id: int | None = Field(None, description="Events moving contacts from or to this texter.")


class EventOut(Schema):
    id: int
    kind: str
    actor_id: int | None
    from_assignment_id: int | None
    from_texter_id: int | None
    to_assignment_id: int | None
    to_texter_id: int | None
    contact_count: int
    strategy: str
    created_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    next_offset: int | None


class CampaignContactFilter(Schema):
    assigned: bool | None = Field(None, description="true: only assigned contacts; false: only unassigned ones.")
    status: MessageStatus | None = None
    after_id: int = Field(0, ge=0, description="Return contacts with a greater id; 0 for the first page.")
    limit: int = Field(1000, ge=1, le=10000)


class CampaignContactOut(Schema):
    id: int
    cell: str
    message_status: str
    assignment_id: int | None
    is_opted_out: bool
    updated_at: dt.datetime


class CampaignContactPage(Schema):
    items: list[CampaignContactOut]
    next_after_id: int | None = Field(description="Pass as after_id for the next page; null on the last page.")


# --- fake message service --------------------------------------------------------


class FakeReplyIn(Schema):
    contact_id: int
    text: str = Field(min_length=1, max_length=1600)


class FakeReplyOut(Schema):
    message: MessageOut
    contact_status: str
    is_opted_out: bool


class OutboxFilter(Schema):
    campaign_id: int | None = Field(None, description="Only this campaign; every campaign you administer when empty.")
    since_id: int = Field(0, ge=0, description="Return messages with a greater id; 0 for the oldest.")
    limit: int = Field(500, ge=1, le=5000)


class OutboxMessageOut(Schema):
    id: int
    contact_id: int
    campaign_id: int
    cell: str
    text: str
    assignment_id: int | None
    created_at: dt.datetime


class OutboxPage(Schema):
    items: list[OutboxMessageOut]
    next_since_id: int | None = Field(description="Pass as since_id to read newer messages.")
