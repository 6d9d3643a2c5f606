"""Finds strategies: the built-ins and those installed under the entry-point group."""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from dynassign.exceptions import ConfigurationError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dynassign.strategies"
DEFAULT = "finished-replies"


def _builtins() -> list[Any]:
    from dynassign.assignment.strategies import (
        all_texters,
        finished_replies,
        finished_replies_tz,
        vetted_takeconversations,
        vetted_texters,
    )

    return [finished_replies, finished_replies_tz, vetted_texters, all_texters, vetted_takeconversations]


def _check_contract(strategy: Any, origin: str) -> None:
    for attribute in ("name", "display_name", "request_new_batch_count"):
        if not hasattr(strategy, attribute):
            raise ConfigurationError(f"Strategy from {origin} lacks {attribute!r}; see the strategy author guide.")


@lru_cache(maxsize=1)
def all_strategies() -> dict[str, Any]:
    """Return every loadable strategy by name: built-ins first, then entry points."""
    found: dict[str, Any] = {}
    for strategy in _builtins():
        found[strategy.name] = strategy
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            strategy = entry_point.load()
        except Exception:
            log.exception("strategy entry point %s failed to load; skipping it", entry_point.value)
            continue
        _check_contract(strategy, f"entry point {entry_point.value}")
        if strategy.name in found:
            log.warning("strategy %s from %s shadows one already loaded; keeping the first", strategy.name, entry_point.value)
            continue
        found[strategy.name] = strategy
    return found


def reload() -> None:
    all_strategies.cache_clear()


def split_names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        parts = [str(item) for item in value]
    else:
        parts = str(value).split(",")
    return [part.strip() for part in parts if part.strip()]


def get(name: str) -> Any:
    try:
        return all_strategies()[name]
    except KeyError:
        known = ", ".join(sorted(all_strategies()))
        raise ConfigurationError(f"Unknown strategy {name!r}; known strategies: {known}.") from None


def enabled_names(campaign: Any) -> list[str]:
    """Return the strategies enabled for ``campaign``, the default first.

    A campaign's own list enables every entry in order; a list from the
    organization, the environment or the default enables only its first.
    """
    from dynassign.organizations import config

    own = split_names(campaign.settings.get("DYNAMICASSIGNMENT_BATCHES"))
    if own:
        return own
    inherited = split_names(config.resolve("DYNAMICASSIGNMENT_BATCHES", organization=campaign.organization))
    return inherited[:1] or [DEFAULT]
