"""The SQLite writer lock: atomic blocks queue on a sidecar file lock before BEGIN.

Other threads use their own connections to the session's test database
file. "Another process" is a real child process that takes the sidecar
lock itself.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.utils import ConnectionHandler

from dynassign.campaigns.models import Campaign, Contact
from dynassign.sqlite_backend.base import database_file

pytestmark = pytest.mark.sqlite_only

# Joins wait this long for a thread that should finish at once, so a hang
# fails the test instead of stalling the run.
JOIN_TIMEOUT = 60


def sidecar_path() -> Path:
    return Path(connection.settings_dict["NAME"] + ".writers")


def sidecar_is_free() -> bool:
    """Return whether the writer lock is free, checked through a separate open of the sidecar file."""
    with open(sidecar_path(), "a+b") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(file, fcntl.LOCK_UN)
        return True


def run_in_thread(work) -> threading.Thread:
    """Start ``work`` in a thread with its own database connection, closed when it ends."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def add_to_window(campaign_id: int, hours: int) -> None:
    """Add ``hours`` to a campaign's response window by reading and then writing it in one transaction."""
    with transaction.atomic():
        campaign = Campaign.objects.get(id=campaign_id)
        campaign.response_window += hours
        campaign.save(update_fields=["response_window"])


@contextmanager
def lock_held_by_other_process() -> Iterator[subprocess.Popen]:
    """Hold the writer lock in a child process until the block ends."""
    script = textwrap.dedent(
        """
        import fcntl, sys
        with open(sys.argv[1], "a+b") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            print("locked", flush=True)
            sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(sidecar_path())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        yield child
    finally:
        release_child(child)


def release_child(child: subprocess.Popen) -> None:
    """Make the child process let its lock go and exit."""
    if child.poll() is None:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=JOIN_TIMEOUT)


@pytest.mark.django_db(transaction=True)
def test_threads_keep_every_increment(make_campaign, monkeypatch) -> None:
    # With deferred transactions SQLite itself would let two readers both
    # try to upgrade to a writer, so only the writer lock keeps every write.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "transaction_mode", "DEFERRED")
    campaign = make_campaign()
    start = campaign.response_window
    thread_count = 8
    increments = 25
    errors: list[BaseException] = []
    all_started = threading.Barrier(thread_count)

    def increment() -> None:
        try:
            all_started.wait(timeout=JOIN_TIMEOUT)
            for _ in range(increments):
                add_to_window(campaign.id, 1)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [run_in_thread(increment) for _ in range(thread_count)]
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)

    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    campaign.refresh_from_db()
    assert campaign.response_window == start + thread_count * increments


@pytest.mark.django_db(transaction=True)
def test_atomic_block_holds_sidecar_lock() -> None:
    connection.ensure_connection()
    assert sidecar_is_free()

    with transaction.atomic():
        Campaign.objects.count()
        assert not sidecar_is_free()

    assert sidecar_is_free()


@pytest.mark.django_db(transaction=True)
def test_lock_held_past_timeout_by_thread_raises(monkeypatch) -> None:
    inside = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Campaign.objects.count()
            inside.set()
            leave.wait(timeout=JOIN_TIMEOUT)

    holder = run_in_thread(hold)
    assert inside.wait(timeout=JOIN_TIMEOUT)
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            with transaction.atomic():
                Campaign.objects.count()
    finally:
        leave.set()
        holder.join(timeout=JOIN_TIMEOUT)

    with transaction.atomic():
        assert Campaign.objects.count() == 0
    assert sidecar_is_free()


@pytest.mark.django_db(transaction=True)
def test_lock_held_past_timeout_by_process_raises(monkeypatch) -> None:
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)

    with lock_held_by_other_process():
        with pytest.raises(OperationalError, match="database is locked"):
            with transaction.atomic():
                Campaign.objects.count()

    # The helper thread that waited in flock gets the lock once the child
    # exits, and must drop it again because its caller gave up.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", JOIN_TIMEOUT)
    with transaction.atomic():
        assert Campaign.objects.count() == 0
    assert sidecar_is_free()


@pytest.mark.django_db(transaction=True)
def test_writer_proceeds_when_process_releases(make_campaign) -> None:
    campaign = make_campaign()
    start = campaign.response_window
    errors: list[BaseException] = []
    waiting = threading.Event()

    def write() -> None:
        try:
            waiting.set()
            add_to_window(campaign.id, 1)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    with lock_held_by_other_process() as child:
        writer = run_in_thread(write)
        assert waiting.wait(timeout=JOIN_TIMEOUT)
        campaign.refresh_from_db()
        assert campaign.response_window == start
        release_child(child)
        writer.join(timeout=JOIN_TIMEOUT)

    assert not writer.is_alive()
    assert errors == []
    campaign.refresh_from_db()
    assert campaign.response_window == start + 1


@pytest.mark.django_db(transaction=True)
def test_lock_released_after_exception(make_campaign, monkeypatch) -> None:
    campaign = make_campaign()
    start = campaign.response_window

    with pytest.raises(ValueError):
        with transaction.atomic():
            Campaign.objects.filter(id=campaign.id).update(response_window=0)
            raise ValueError("rolled back on purpose")

    assert sidecar_is_free()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.5)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            add_to_window(campaign.id, 1)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    run_in_thread(write).join(timeout=JOIN_TIMEOUT)
    assert errors == []
    campaign.refresh_from_db()
    assert campaign.response_window == start + 1


@pytest.mark.django_db(transaction=True)
def test_lock_released_after_failed_commit() -> None:
    # SQLite checks Django's foreign keys at COMMIT (they are deferred), so
    # this transaction fails in COMMIT and Django rolls it back.
    missing_campaign_id = 10**9
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Contact.objects.create(campaign_id=missing_campaign_id, first_name="A", last_name="B", cell="+12125550100")

    assert sidecar_is_free()
    assert Contact.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_lock_released_on_close_in_atomic() -> None:
    with transaction.atomic():
        Campaign.objects.count()
        assert not sidecar_is_free()
        connection.close()
        assert sidecar_is_free()


@pytest.mark.parametrize("name", [":memory:", "file:writers-test?mode=memory&cache=shared"])
def test_in_memory_database_has_no_sidecar(name, tmp_path, monkeypatch, django_db_blocker) -> None:
    monkeypatch.chdir(tmp_path)
    # A handler of its own, so the test's "default" alias is this database.
    memory = ConnectionHandler({"default": {"ENGINE": "dynassign.sqlite_backend", "NAME": name}})["default"]

    with django_db_blocker.unblock():
        try:
            memory.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            with memory.cursor() as cursor:
                cursor.execute("CREATE TABLE t (x INTEGER)")
            memory.commit()
            memory.set_autocommit(True)
        finally:
            memory.connection.close()

    assert os.listdir(tmp_path) == []


def test_database_file_of_uri() -> None:
    assert database_file("file:/data/my%20db.sqlite3?mode=rwc") == "/data/my db.sqlite3"
    assert database_file("/data/db.sqlite3") == "/data/db.sqlite3"
