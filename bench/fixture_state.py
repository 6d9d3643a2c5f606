"""The fixture of the running benchmark, shared with forked texter processes."""

from __future__ import annotations

from typing import Any

FIXTURE: Any = None
