"""Test session set-up: a private data folder, database markers and strict skips.

Every session gets a fresh temporary data folder (``DYNASSIGN_DATA_DIR``),
so the SQLite test database never lands in ``./var`` and concurrent sessions
in one working tree never share a file. Passwords use the fast hasher.

Markers ``postgres_only`` and ``sqlite_only`` skip a test on the other
database. With ``DYNASSIGN_STRICT=1``, which CI sets, every other skip fails
the run. So a ``browser`` test that skips because Chromium is missing fails
in CI instead of passing unnoticed.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.fixtures"]

STRICT_VARIABLE = "DYNASSIGN_STRICT"
DATABASE_MARKERS = {"postgres_only": "postgresql", "sqlite_only": "sqlite"}

_data_dir_key = pytest.StashKey[Path]()
_skipped_for_other_database = pytest.StashKey[bool]()
_strict_collection_skips: list[str] = []


def strict_mode() -> bool:
    """Return whether ``DYNASSIGN_STRICT`` turns skips into failures."""
    value = os.environ.get(STRICT_VARIABLE, "")
    if value not in ("", "0", "1"):
        raise pytest.UsageError(
            f"{STRICT_VARIABLE}={value!r} is invalid: set it to 1 to make skipped tests fail the run, or to 0"
        )
    return value == "1"


def database_vendor() -> str:
    """Return the vendor of the default database: ``sqlite`` or ``postgresql``."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    for vendor in ("postgresql", "sqlite"):
        if vendor in engine:
            return vendor
    raise pytest.UsageError(f"database engine {engine!r} is not supported: use SQLite or PostgreSQL")


def _merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _load_settings_for_tests(data_dir: Path) -> None:
    """Read the settings module again with the test environment and apply it.

    pytest-django imports the settings before this file is loaded, so the
    environment set here is too late for that first import. Database dicts
    are updated in place because Django's connections keep references to
    them.
    """
    from django.conf import settings

    import dynassign.settings as settings_module

    os.environ["DYNASSIGN_DATA_DIR"] = str(data_dir)
    os.environ["DYNASSIGN_FAST_PASSWORD_HASHER"] = "1"
    importlib.reload(settings_module)

    for name in dir(settings_module):
        if name.isupper() and name != "DATABASES":
            setattr(settings, name, getattr(settings_module, name))
    for alias, config in settings_module.DATABASES.items():
        _merge(settings.DATABASES.setdefault(alias, {}), config)

    # WhiteNoise warns about a missing STATIC_ROOT on every start.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: checks behaviour that only SQLite has")
    strict_mode()

    data_dir = Path(tempfile.mkdtemp(prefix="dynassign-test-"))
    config.stash[_data_dir_key] = data_dir
    _load_settings_for_tests(data_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    data_dir = config.stash.get(_data_dir_key, None)
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    database = settings.DATABASES["default"]
    target = database["TEST"].get("NAME") or f"test_{database['NAME']}"
    if database_vendor() == "postgresql":
        target = f"{database.get('HOST')}:{database.get('PORT')}/{target}"
    strict = "skips fail the run" if strict_mode() else "off"
    return [
        f"dynassign: database {database_vendor()} ({target})",
        f"dynassign: data folder {settings.DATA_DIR}",
        f"dynassign: strict mode ({STRICT_VARIABLE}) {strict}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = database_vendor()
    for item in items:
        for marker, marker_vendor in DATABASE_MARKERS.items():
            if item.get_closest_marker(marker) and marker_vendor != vendor:
                item.add_marker(pytest.mark.skip(reason=f"{marker}: runs in the {marker_vendor} pass"))
                item.stash[_skipped_for_other_database] = True


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    allowed = item.stash.get(_skipped_for_other_database, False) or hasattr(report, "wasxfail")
    if report.skipped and not allowed and strict_mode():
        reason = _skip_reason(report)
        report.outcome = "failed"
        report.longrepr = (
            f"skipped ({reason}), and {STRICT_VARIABLE}=1 makes every skip fail. "
            "Install what the test needs (PostgreSQL, Chromium), or mark a database-specific test "
            "postgres_only or sqlite_only instead of skipping it."
        )
    return report


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped and strict_mode():
        _strict_collection_skips.append(f"{report.nodeid}: {_skip_reason(report)}")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _strict_collection_skips:
        terminalreporter.section(f"skipped modules ({STRICT_VARIABLE}=1 makes them fail)", red=True)
        for line in _strict_collection_skips:
            terminalreporter.line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _strict_collection_skips and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
