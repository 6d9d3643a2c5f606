"""Cell numbers in E.164 and the time zone of a contact.

A contact's time zone comes from its zip code (``zipcodes``, US only), or
else from the area code of its cell (``phonenumbers.timezone``), or is empty
when neither gives exactly one IANA zone. Both lookups are cached because a
contact upload calls them once per row.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, timezone as phone_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

# Separators people write between the digits of a North American number.
_SEPARATORS = re.compile(r"[\s().\-/]+")
_PLAIN_NANP = re.compile(r"(?:\+1|1)?(\d{10})")
_UNKNOWN_ZONE = "Etc/Unknown"


class InvalidCell(ValueError):
    """A cell that is not a valid number of the expected region, with a message stating why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_cell(raw: str, region: str) -> str:
    """Return ``raw`` in E.164, or raise InvalidCell when it is not a valid number of ``region``."""
    text = raw.strip()
    fast = _normalize_plain_nanp(text, region)
    if fast is not None:
        return fast
    return _normalize_with_parser(text, region)


def _normalize_plain_nanp(text: str, region: str) -> str | None:
    """Return E.164 for a plain 10-digit North American number valid in ``region``, else None.

    ``phonenumbers.parse`` took about 20 µs per call (phonenumbers 9.0 on a
    2-core x86 machine), twice the validity check. This path skips it for the common
    spellings (``(503) 555-0172``, ``1-503-555-0172``, ``+15035550172``) and
    keeps the library's validity check. Anything it does not accept goes
    through the full parser, which also writes the rejection message.
    """
    if phonenumbers.country_code_for_region(region) != 1:
        return None
    match = _PLAIN_NANP.fullmatch(_SEPARATORS.sub("", text))
    if match is None:
        return None
    national = match.group(1)
    number = PhoneNumber(country_code=1, national_number=int(national))
    if not phonenumbers.is_valid_number_for_region(number, region):
        return None
    return "+1" + national


def _normalize_with_parser(text: str, region: str) -> str:
    if not text:
        raise InvalidCell("The cell is empty; enter a phone number such as (503) 555-0172.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidCell(f"{text!r} is not a phone number; enter one such as (503) 555-0172.") from None

    if phonenumbers.is_valid_number_for_region(number, region):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise InvalidCell(f"{text!r} is not a valid phone number; check the area code and the number of digits.")
    number_region = phonenumbers.region_code_for_number(number)
    raise InvalidCell(
        f"{text!r} is a {number_region} number; this campaign accepts only {region} numbers "
        "(the PHONE_COUNTRY setting)."
    )


@lru_cache(maxsize=65536)
def timezone_for_zip(zip_code: str) -> str:
    """Return the IANA zone of a US zip code (``97201``, ``97201-1234``, or ``8285`` for ``08285``), or ''."""
    digits = zip_code.strip()
    if len(digits) in (9, 10) and digits[:5].isdigit():
        digits = digits[:5]
    if not digits.isdigit() or not 3 <= len(digits) <= 5:
        return ""
    # Spreadsheets drop the leading zeros of New England and New Jersey zips.
    return _zip_zones().get(digits.zfill(5), "")


@cache
def _zip_zones() -> dict[str, str]:
    """Map every zip code in ``zipcodes`` to its zone, built once (about 42,000 entries).

    The zips are read by two-digit prefix because ``zipcodes.list_all()``
    builds all of its records at once, which peaks at about 100 MB.
    """
    import zipcodes

    valid_zones = zoneinfo.available_timezones()
    zones: dict[str, str] = {}
    for prefix in range(100):
        for entry in zipcodes.similar_to(f"{prefix:02d}"):
            if entry.get("timezone") in valid_zones:
                zones[entry["zip_code"]] = entry["timezone"]
    return zones


def timezone_for_cell(e164: str) -> str:
    """Return the zone of a valid cell in E.164 when its prefix maps to exactly one zone, else ''.

    The lookup is phonenumbers' prefix table for geographic numbers. A toll-free
    or other non-geographic number finds only its country's entry, which lists
    several zones for the US and Canada, so it gets ''.
    """
    digits = e164.lstrip("+")
    for length in range(1, 4):
        country = digits[:length]
        if phonenumbers.region_code_for_country_code(int(country)) != phonenumbers.UNKNOWN_REGION:
            return _timezone_for_prefix(digits[: _longest_zone_prefix(country)])
    return ""


@cache
def _longest_zone_prefix(country_code: str) -> int:
    """Return the length of this country's longest prefix, country code included, in the zone table."""
    lengths = [len(prefix) for prefix in TIMEZONE_DATA if prefix.startswith(country_code)]
    return max(lengths, default=len(country_code))


@lru_cache(maxsize=65536)
def _timezone_for_prefix(prefix: str) -> str:
    # No zone entry of this country is longer than ``prefix``, so every
    # number starting with it gets the same zones.
    number = phonenumbers.parse("+" + prefix)
    zones = [zone for zone in phone_timezone.time_zones_for_geographical_number(number) if zone != _UNKNOWN_ZONE]
    return zones[0] if len(zones) == 1 else ""
