"""Settings that organizations and campaigns can set, and how they resolve.

A value resolves campaign first, then organization, then the environment
variable of the same name, then the built-in default. Every value is
validated when it is set; an invalid environment variable is reported at
start-up by ``check_environment``.
"""

from __future__ import annotations

import os
import zoneinfo
from dataclasses import dataclass
from typing import Any, Callable

from dynassign.exceptions import ConfigurationError, DynassignError, InvalidValue


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise InvalidValue(f"{name} must be true or false, not {value!r}.")


def _int_parser(minimum: int, maximum: int | None = None) -> Callable[[str, Any], int | None]:
    def parse(name: str, value: Any) -> int | None:
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if isinstance(value, bool):
            raise InvalidValue(f"{name} must be a whole number, not {value!r}.")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise InvalidValue(f"{name} must be a whole number, not {value!r}.") from None
        if number < minimum or (maximum is not None and number > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise InvalidValue(f"{name} must be at least {minimum}{upper}, not {number}.")
        return number

    return parse


def _parse_text(name: str, value: Any) -> str:
    text = str(value).strip()
    if len(text) > 500:
        raise InvalidValue(f"{name} must be at most 500 characters; it has {len(text)}.")
    return text


def _parse_strategy_list(name: str, value: Any) -> str:
    from dynassign.assignment.strategies import registry

    names = registry.split_names(value)
    if not names:
        raise InvalidValue(f"{name} must name at least one strategy, for example 'finished-replies'.")
    known = registry.all_strategies()
    for strategy_name in names:
        if strategy_name not in known:
            raise ConfigurationError(
                f"{name} names the unknown strategy {strategy_name!r}; "
                f"known strategies: {', '.join(sorted(known))}."
            )
    return ",".join(names)


def _parse_strategy_name(name: str, value: Any) -> str:
    parsed = _parse_strategy_list(name, value)
    if "," in parsed:
        raise InvalidValue(f"{name} takes one strategy name, not a list: {value!r}.")
    return parsed


def _parse_timezone(name: str, value: Any) -> str:
    text = str(value).strip()
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"{name} must be an IANA time zone such as 'America/New_York', not {value!r}.") from None
    return text


def _parse_handlers(name: str, value: Any) -> str:
    from dynassign.messaging.handlers import HANDLERS

    names = [part.strip() for part in str(value).split(",") if part.strip()]
    for handler in names:
        if handler not in HANDLERS:
            raise ConfigurationError(
                f"{name} names the unknown message handler {handler!r}; known handlers: {', '.join(HANDLERS)}."
            )
    return ",".join(names)


def _parse_country(name: str, value: Any) -> str:
    import phonenumbers

    text = str(value).strip().upper()
    if phonenumbers.country_code_for_region(text) == 0:
        raise InvalidValue(f"{name} must be a two-letter region code such as 'US', not {value!r}.")
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str, Any], Any]
    help: str
    # Only the environment sets these; organizations and campaigns cannot.
    environment_only: bool = False


_SETTINGS = [
    Setting("DYNAMICASSIGNMENT_BATCHES", "finished-replies", _parse_strategy_list,
            "Comma-separated strategy names; a campaign's list enables all, other levels only the first."),
    Setting("MAX_TEXTERS_PER_CAMPAIGN", None, _int_parser(1), "Most texters a campaign admits through its link; empty for no limit."),
    Setting("MAX_CONTACTS_PER_TEXTER", None, _int_parser(0), "Initial max_contacts of new assignments; empty for no limit, 0 blocks."),
    Setting("CAMPAIGN_INVITES_CURRENT_USERS_ONLY", False, _parse_bool, "Campaign links admit current members only."),
    Setting("DYNAMIC_ASSIGNMENT_CONTROLS", True, _parse_bool, "Show texters the request controls."),
    Setting("REQUEST_LABEL", "Send more texts", _parse_text, "Label of the request button after the first batch."),
    Setting("REQUEST_MESSAGE", "Ready for more? Request your next batch.", _parse_text, "Message shown beside the request button."),
    Setting("NOTHING_TO_DO_MESSAGE", "Nothing to send right now. Thank you for texting!", _parse_text,
            "Message shown when there is nothing to request."),
    Setting("RELEASE_CONTACTS", True, _parse_bool, "Texters may release their unsent contacts."),
    Setting("RELEASE_CONVERSATIONS", False, _parse_bool, "Texters may also release their conversations."),
    Setting("RELEASE_CONVERSATIONS_VETTED_ONLY", False, _parse_bool, "Only vetted texters may release conversations."),
    Setting("TAKE_CONVERSATIONS", False, _parse_bool, "Vetted texters see the take-conversations control."),
    Setting("TAKE_CONVERSATIONS_BATCH_SIZE", 20, _int_parser(1), "Contacts per take-conversations request."),
    Setting("TAKE_CONVERSATIONS_BATCH_TYPE", "vetted-takeconversations", _parse_strategy_name,
            "Strategy of the take-conversations control."),
    Setting("OUTBOUND_UNASSIGN", False, _parse_bool, "Sending the first message to a contact unassigns it."),
    Setting("BULK_SEND", False, _parse_bool, "Texters may request more while still holding unsent contacts."),
    Setting("TEXTING_HOURS_ENFORCED", False, _parse_bool, "Send only within texting hours in each contact's time zone."),
    Setting("TEXTING_HOURS_START", 9, _int_parser(0, 23), "First hour of texting, 0-23, in the contact's time zone."),
    Setting("TEXTING_HOURS_END", 21, _int_parser(1, 24), "Hour texting stops, 1-24, in the contact's time zone."),
    Setting("TIMEZONE", "America/New_York", _parse_timezone, "Time zone for contacts whose own zone is unknown."),
    Setting("MESSAGE_HANDLERS", "outbound-unassign", _parse_handlers,
            "Message handlers that run around saving each message, in order.", environment_only=True),
    Setting("PHONE_COUNTRY", "US", _parse_country, "Region whose numbers contact uploads accept."),
]

SETTINGS: dict[str, Setting] = {setting.name: setting for setting in _SETTINGS}


def definition(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise InvalidValue(f"Unknown setting {name!r}; known settings: {', '.join(SETTINGS)}.") from None


def validate(name: str, value: Any) -> Any:
    """Parse and check ``value`` for the setting ``name``, raising a clear error."""
    setting = definition(name)
    return setting.parse(name, value)


def validate_overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a set of overrides for an organization or campaign; ``None`` removes one."""
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        setting = definition(name)
        if setting.environment_only:
            raise InvalidValue(f"{name} is set by the environment variable of the same name, not per organization.")
        cleaned[name] = None if value is None else validate(name, value)
    return cleaned


def environment_value(name: str) -> Any:
    setting = definition(name)
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return setting.default
    return setting.parse(name, raw)


def resolve(name: str, *, campaign: Any = None, organization: Any = None) -> Any:
    """Return the value of ``name``: campaign, then organization, then environment, then default."""
    if campaign is not None:
        if name in campaign.settings and campaign.settings[name] is not None:
            return campaign.settings[name]
        organization = organization or campaign.organization
    if organization is not None and name in organization.settings and organization.settings[name] is not None:
        return organization.settings[name]
    return environment_value(name)


def resolve_all(*, campaign: Any = None, organization: Any = None) -> dict[str, Any]:
    return {name: resolve(name, campaign=campaign, organization=organization) for name in SETTINGS}


def check_environment() -> None:
    """Raise ConfigurationError naming the first invalid environment variable."""
    for name in SETTINGS:
        try:
            environment_value(name)
        except DynassignError as error:
            raise ConfigurationError(f"Environment variable {error.message}") from None
