"""Finds strategies: the built-ins and those installed under the entry-point group."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from dynassign.exceptions import ConfigurationError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dynassign.strategies"
DEFAULT = "finished-replies"
BUILT_IN = "built-in"

# Strategy names are typed into DYNAMICASSIGNMENT_BATCHES lists: lowercase
# words of letters and digits joined by single hyphens, starting with a letter.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Source:
    """The origin of a loadable strategy: built in, or an installed distribution's entry point."""

    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None

    def __str__(self) -> str:
        if self.entry_point is None:
            return BUILT_IN
        name = self.distribution or "unknown distribution"
        version = f" {self.version}" if self.version else ""
        return f"{name}{version} (entry point {self.entry_point})"


def is_valid_name(name: Any) -> bool:
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


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


def _entry_point_source(entry_point: Any) -> Source:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return Source(entry_point=entry_point.value)
    return Source(distribution=dist.metadata["Name"], version=dist.version, entry_point=entry_point.value)


@lru_cache(maxsize=1)
def all_strategies() -> dict[str, Any]:
    """Return every loadable strategy by name: built-ins first, then entry points."""
    found: dict[str, Any] = {}
    _sources.clear()
    for strategy in _builtins():
        found[strategy.name] = strategy
        _sources[strategy.name] = Source()
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
        _sources[strategy.name] = _entry_point_source(entry_point)
    return found


_sources: dict[str, Source] = {}


def source(name: str) -> Source:
    """Return where the loadable strategy ``name`` comes from."""
    get(name)
    return _sources.get(name, Source())


def reload() -> None:
    all_strategies.cache_clear()


@contextmanager
def registered(strategy: Any) -> Iterator[None]:
    """Make ``strategy`` loadable under its name inside the block, replacing any of that name.

    Meant for tests and the contract kit, which check a strategy before it
    is installed through an entry point.
    """
    _check_contract(strategy, f"object {strategy!r}")
    loaded = all_strategies()
    previous = loaded.get(strategy.name)
    loaded[strategy.name] = strategy
    try:
        yield
    finally:
        if previous is None:
            loaded.pop(strategy.name, None)
        else:
            loaded[strategy.name] = previous


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
