from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="dynassign", version="0.1.0")
