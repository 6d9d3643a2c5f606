"""An exclusive lock that queues the writers of one SQLite database file.

SQLite makes a writer that finds the database locked sleep and retry, with
delays that grow to 100 ms, so a writer can sleep long after the lock is
free. Here writers wait on locks that wake them when the holder releases:
threads of one process in a first-come, first-served queue, processes in
``flock`` on sidecar files next to the database. The kernel drops a
``flock`` when the process that holds it exits, so a crashed worker cannot
block the others.
"""

from __future__ import annotations

import collections
import fcntl
import io
import os
import threading
import time

LOCK_SUFFIX = ".writers"
GATE_SUFFIX = ".writers-gate"


class WriterLockTimeout(Exception):
    """The writer lock was not acquired within the timeout."""


class _QueueLock:
    """A mutex that hands itself to the thread that has waited longest.

    With a plain ``threading.Lock`` the releasing thread, which goes on
    running, often takes the lock again for its next transaction before a
    woken waiter does, so one busy thread can keep the others waiting.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locked = False
        self._waiters: collections.deque[threading.Lock] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the lock; return whether it was acquired."""
        with self._mutex:
            if not self._locked:
                self._locked = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)

        if waiter.acquire(timeout=min(timeout, threading.TIMEOUT_MAX)):
            return True
        with self._mutex:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        # release() handed the lock over just as the timeout ran out.
        return True

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                # The lock stays locked and passes to the first waiter.
                self._waiters.popleft().release()
            else:
                self._locked = False


# One queue per lock file, so that at most one thread per process waits in
# flock. A forked child starts with empty queues, because a queue locked by
# a thread of the parent would stay locked in the child forever.
_process_queues: dict[str, _QueueLock] = {}
os.register_at_fork(after_in_child=_process_queues.clear)


class WriterLock:
    """The writer lock of one database connection.

    The lock is an exclusive ``flock`` on ``<database file>.writers``. A
    process first takes ``<database file>.writers-gate``, then the lock, then
    lets the gate go. While one process holds the lock, the next process in
    line holds the gate and is the only one waiting for the lock. So the
    holder must pass the gate again for its next transaction instead of
    taking the lock back at once.

    NOTE: processes waiting for the gate are not served in arrival order,
    because the kernel wakes them all when it frees and one of them wins.

    Each instance opens its sidecar files on first use and keeps them open
    until ``close()``. Like the database connection it belongs to, an instance
    is not safe for use by two threads at once.
    """

    def __init__(self, database_path: str) -> None:
        self.path = os.path.abspath(database_path) + LOCK_SUFFIX
        self.gate_path = os.path.abspath(database_path) + GATE_SUFFIX
        self._lock_file: io.FileIO | None = None
        self._gate_file: io.FileIO | None = None
        self._held_queue: _QueueLock | None = None

    @property
    def held(self) -> bool:
        """Whether this connection holds the lock."""
        return self._held_queue is not None

    def acquire(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the lock; raise WriterLockTimeout if it stays taken."""
        if self.held:
            raise RuntimeError(f"writer lock {self.path} is already held by this connection")
        deadline = time.monotonic() + timeout

        queue = _process_queues.setdefault(self.path, _QueueLock())
        if not queue.acquire(timeout):
            raise WriterLockTimeout(f"timed out after {timeout} s waiting for the writer lock {self.path}")
        try:
            self._acquire_files(deadline, timeout)
        except BaseException:
            queue.release()
            raise
        self._held_queue = queue

    def release(self) -> None:
        """Release the lock if this connection holds it."""
        queue = self._held_queue
        if queue is None:
            return
        self._held_queue = None
        try:
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        finally:
            queue.release()

    def close(self) -> None:
        """Release the lock and close the sidecar files."""
        try:
            self.release()
        finally:
            for file in (self._lock_file, self._gate_file):
                if file is not None:
                    file.close()
            self._lock_file = None
            self._gate_file = None

    def _acquire_files(self, deadline: float, timeout: float) -> None:
        # A file that a wait gave up on may still get its lock later in the
        # helper thread, so _lock_before() takes it over and the attribute
        # gets it back only on success. The next acquire opens a new file.
        gate_file = self._gate_file if self._gate_file is not None else _open_sidecar(self.gate_path)
        self._gate_file = None
        _lock_or_time_out(gate_file, deadline, timeout, f"the writer lock gate {self.gate_path}")
        self._gate_file = gate_file

        try:
            lock_file = self._lock_file if self._lock_file is not None else _open_sidecar(self.path)
            self._lock_file = None
            _lock_or_time_out(lock_file, deadline, timeout, f"the writer lock {self.path}")
            self._lock_file = lock_file
        finally:
            fcntl.flock(gate_file, fcntl.LOCK_UN)


def _lock_or_time_out(file: io.FileIO, deadline: float, timeout: float, name: str) -> None:
    """Lock ``file`` before ``deadline`` or raise WriterLockTimeout naming ``name``."""
    if not _lock_before(file, deadline):
        raise WriterLockTimeout(f"timed out after {timeout} s waiting for {name}")


def _open_sidecar(path: str) -> io.FileIO:
    # flock needs no write access, so read-only suffices and works on a
    # sidecar file created by another user. A file object, unlike a bare
    # descriptor, is closed when a connection is dropped without close().
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    return io.FileIO(descriptor, "r")


def _lock_before(file: io.FileIO, deadline: float) -> bool:
    """Take an exclusive flock on ``file`` before ``deadline`` (``time.monotonic()``); return whether it was taken.

    When it returns False, the file belongs to a helper thread that closes it
    and the caller must not use it again.
    """
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass

    # A blocking flock, which the kernel ends when the lock frees, cannot
    # time out without a signal, and signals reach only the main thread. So
    # it runs in a helper thread, and this thread waits with a timeout.
    return _FlockWait(file).wait(max(0.0, deadline - time.monotonic()))


class _FlockWait:
    """A blocking exclusive flock on ``file`` in a helper thread, which the caller may abandon.

    The helper thread closes the file, which releases any lock on it, when its
    flock fails or returns after the caller gave up.
    """

    def __init__(self, file: io.FileIO) -> None:
        self._file = file
        self._mutex = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._error: OSError | None = None
        threading.Thread(target=self._run, name="sqlite writer lock wait", daemon=True).start()

    def wait(self, timeout: float) -> bool:
        """Return True once the flock is held, or False if ``timeout`` seconds pass first."""
        try:
            self._done.wait(min(timeout, threading.TIMEOUT_MAX))
        finally:
            # Also reached by an exception in this thread, such as
            # KeyboardInterrupt, after which the helper thread must drop the
            # lock it may still get.
            with self._mutex:
                if not self._done.is_set():
                    self._abandoned = True
        if self._abandoned:
            return False
        if self._error is not None:
            raise self._error
        return True

    def _run(self) -> None:
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX)
        except OSError as error:
            self._error = error
        with self._mutex:
            self._done.set()
            abandoned = self._abandoned
        if abandoned or self._error is not None:
            self._file.close()
