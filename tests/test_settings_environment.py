"""The test environment itself: which database runs, how SQLite is set up, strict skips."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from dynassign.organizations.models import Organization

REPOSITORY = Path(__file__).resolve().parents[1]


def sqlite_file_of(current_connection) -> str:
    """Return the file behind the ``main`` schema of an SQLite connection."""
    with current_connection.cursor() as cursor:
        cursor.execute("PRAGMA database_list")
        return next(row[2] for row in cursor.fetchall() if row[1] == "main")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_database_matches_database_url() -> None:
    expected = urlsplit(os.environ["DATABASE_URL"])

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), host(inet_server_addr()), inet_server_port(), current_user")
        database, host, port, user = cursor.fetchone()

    assert connection.vendor == "postgresql"
    assert database == "test_" + expected.path.lstrip("/")
    assert host == expected.hostname
    assert port == expected.port
    assert user == expected.username


@pytest.mark.sqlite_only
@pytest.mark.django_db
def test_sqlite_test_database_is_session_file() -> None:
    database_file = Path(sqlite_file_of(connection))

    assert "DATABASE_URL" not in os.environ
    assert connection.vendor == "sqlite"
    assert database_file == Path(settings.DATABASES["default"]["TEST"]["NAME"])
    assert database_file.parent == Path(settings.DATA_DIR)
    assert not database_file.is_relative_to(REPOSITORY / "var")


def test_data_folder_is_private_to_session() -> None:
    data_dir = Path(settings.DATA_DIR)

    assert data_dir.is_dir()
    assert data_dir.name.startswith("dynassign-test-")
    assert os.environ["DYNASSIGN_DATA_DIR"] == str(data_dir)
    assert Path(settings.STATIC_ROOT).is_relative_to(data_dir)


def test_fast_password_hasher_in_use() -> None:
    assert make_password("correct horse battery").startswith("md5$")


@pytest.mark.sqlite_only
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (journal_mode,) = cursor.fetchone()

    assert journal_mode == "wal"


@pytest.mark.sqlite_only
@pytest.mark.django_db(transaction=True)
def test_sqlite_transaction_takes_write_lock_at_begin() -> None:
    # With IMMEDIATE transactions, atomic() holds the write lock before its
    # first write, so a second writer cannot start until it commits.
    other = sqlite3.connect(sqlite_file_of(connection), timeout=0, isolation_level=None)
    try:
        with transaction.atomic():
            Organization.objects.count()
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")

        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_threads_write_through_own_connections() -> None:
    thread_count = 4
    rows_per_thread = 10
    all_connected = threading.Barrier(thread_count)
    connection_ids: list[int] = []
    database_files: list[str] = []
    errors: list[BaseException] = []

    def write_rows(thread_index: int) -> None:
        try:
            for row in range(rows_per_thread):
                with transaction.atomic():
                    Organization.objects.create(name=f"thread {thread_index} row {row}")
            connection_ids.append(id(connection.connection))
            if connection.vendor == "sqlite":
                database_files.append(sqlite_file_of(connection))
            # Every thread keeps its connection open until all have one, so
            # equal ids would mean a shared connection.
            all_connected.wait(timeout=60)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
            all_connected.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=write_rows, args=(index,)) for index in range(thread_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(connection_ids)) == thread_count
    assert Organization.objects.count() == thread_count * rows_per_thread
    if connection.vendor == "sqlite":
        assert set(database_files) == {settings.DATABASES["default"]["TEST"]["NAME"]}


STRICT_SAMPLE_TESTS = '''
import pytest


def test_plain():
    pass


@pytest.mark.postgres_only
def test_postgres_feature():
    pass


@pytest.mark.browser
def test_page_in_browser():
    pytest.skip("Chromium not found at /usr/bin/chromium")


@pytest.mark.xfail(reason="known gap")
def test_known_gap():
    assert False
'''


def summary_lines(result: subprocess.CompletedProcess[str], outcome: str) -> list[str]:
    """Return the lines of pytest's short test summary (``-rA``) with ``outcome``."""
    return [line for line in result.stdout.splitlines() if line.startswith(outcome + " ")]


def run_sample_session(tmp_path: Path, *, strict: str, database_url: str | None) -> subprocess.CompletedProcess[str]:
    """Run pytest in a subprocess on a sample file that uses this suite's conftest."""
    (tmp_path / "pytest.ini").write_text(
        textwrap.dedent(
            """\
            [pytest]
            DJANGO_SETTINGS_MODULE = dynassign.settings
            markers =
                postgres_only: needs PostgreSQL
                browser: drives Chromium
            """
        )
    )
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_sample.py").write_text(STRICT_SAMPLE_TESTS)

    environment = {**os.environ, "DYNASSIGN_STRICT": strict, "PYTHONPATH": str(REPOSITORY)}
    environment.pop("DATABASE_URL", None)
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_strict_mode_fails_skipped_browser_test(tmp_path: Path) -> None:
    result = run_sample_session(tmp_path, strict="1", database_url=None)
    failed = summary_lines(result, "FAILED")
    skipped = summary_lines(result, "SKIPPED")

    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert len(failed) == 1
    assert "test_sample.py::test_page_in_browser" in failed[0]
    assert "skipped (Chromium not found at /usr/bin/chromium)" in result.stdout
    assert len(skipped) == 1
    assert "postgres_only: runs in the postgresql pass" in skipped[0]
    assert summary_lines(result, "PASSED") == ["PASSED test_sample.py::test_plain"]
    assert len(summary_lines(result, "XFAIL")) == 1


def test_strict_mode_runs_postgres_tests_on_postgres(tmp_path: Path) -> None:
    # The sample tests use no database, so the URL is only parsed, never connected to.
    result = run_sample_session(tmp_path, strict="1", database_url="postgres://postgres@127.0.0.1:9/dynassign")
    failed = summary_lines(result, "FAILED")

    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "PASSED test_sample.py::test_postgres_feature" in summary_lines(result, "PASSED")
    assert summary_lines(result, "SKIPPED") == []
    assert len(failed) == 1
    assert "test_sample.py::test_page_in_browser" in failed[0]


def test_skips_pass_without_strict_mode(tmp_path: Path) -> None:
    result = run_sample_session(tmp_path, strict="0", database_url=None)
    skipped = summary_lines(result, "SKIPPED")

    assert result.returncode == pytest.ExitCode.OK, result.stdout + result.stderr
    assert summary_lines(result, "FAILED") == []
    assert len(skipped) == 2
    assert any("Chromium not found at /usr/bin/chromium" in line for line in skipped)


def test_strict_mode_rejects_unknown_value(tmp_path: Path) -> None:
    result = run_sample_session(tmp_path, strict="yes", database_url=None)

    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "DYNASSIGN_STRICT='yes' is invalid" in result.stderr
