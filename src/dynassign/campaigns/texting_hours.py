"""Texting hours in each contact's own time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from dynassign.organizations import config


@lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def is_within_hours(now: dt.datetime, zone: str, start_hour: int, end_hour: int) -> bool:
    """Return whether ``now`` falls in [start_hour, end_hour) of local time in ``zone``."""
    local = now.astimezone(_zone(zone))
    return start_hour <= local.hour < end_hour


class TextingHours:
    """A campaign's resolved texting hours."""

    def __init__(self, campaign) -> None:
        self.enforced: bool = config.resolve("TEXTING_HOURS_ENFORCED", campaign=campaign)
        self.start: int = config.resolve("TEXTING_HOURS_START", campaign=campaign)
        self.end: int = config.resolve("TEXTING_HOURS_END", campaign=campaign)
        self.default_zone: str = config.resolve("TIMEZONE", campaign=campaign)
        self.campaign_zones: list[str] = list(campaign.contact_timezones or [])

    def allows(self, contact_zone: str, now: dt.datetime) -> bool:
        """Return whether a message may go to a contact in ``contact_zone`` now."""
        if not self.enforced:
            return True
        return is_within_hours(now, contact_zone or self.default_zone, self.start, self.end)

    def zones_open(self, now: dt.datetime) -> list[str] | None:
        """Return the contact zones within hours now, '' standing for unknown; None when not enforced.

        Only the zones recorded for the campaign at upload are checked, so the
        answer costs the same however many contacts the campaign has.
        """
        if not self.enforced:
            return None
        zones = [zone for zone in self.campaign_zones if zone and self.allows(zone, now)]
        if self.allows("", now):
            zones.append("")
        return zones
