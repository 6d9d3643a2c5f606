"""The served app under gunicorn, and the memory of its workers."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.cluster import _free_port, wait_for_port

log = logging.getLogger(__name__)

WORKERS = 4


class Server:
    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.port = _free_port()
        self.log_path = log_dir / "gunicorn.log"
        environment = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "dynassign.settings"}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "dynassign.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(WORKERS), "--backlog", "2048", "--timeout", "120"],
            env=environment, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)
        self.peak_rss: dict[int, int] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample_rss, daemon=True)
        self._sampler.start()
        log.info("gunicorn started pid=%s port=%s workers=%s", self.process.pid, self.port, WORKERS)

    def _worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def _sample_rss(self) -> None:
        while not self._stop.wait(0.25):
            for pid in self._worker_pids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        kilobytes = int(line.split()[1])
                        self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), kilobytes)

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                return error.code, json.loads(payload or b"{}")
            except ValueError:
                return error.code, {"raw": payload[:200].decode(errors="replace")}

    def token_for(self, username: str, password: str) -> str:
        status, answer = self.call("POST", "/api/auth/token", {"username": username, "password": password})
        if status != 200 or "token" not in answer:
            raise RuntimeError(f"POST /api/auth/token for {username} returned {status}: {answer}")
        return str(answer["token"])

    def stop(self) -> None:
        self._stop.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        log.info("gunicorn stopped pid=%s peak_rss_kb=%s", self.process.pid, self.peak_rss)


def api_available() -> bool:
    """Return whether the app routes the endpoints the HTTP workloads call."""
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/auth/token")
        resolve("/api/assignments/1/batches")
        return True
    except Resolver404:
        return False
