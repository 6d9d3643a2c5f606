"""The JSON API under /api, with its OpenAPI document at /api/docs.

Every endpoint except sign-up, login and token issue needs a session or an
``Authorization: Bearer <token>`` header; see ``dynassign.api.security``.
"""

from __future__ import annotations

from ninja import NinjaAPI

from dynassign.api import auth, campaigns, errors, fake, organizations, texter
from dynassign.api.security import AUTH

api = NinjaAPI(
    title="dynassign",
    version="0.1.0",
    description="Dynamic assignment of contacts to texters: join, request batches, text, administer campaigns.",
    auth=AUTH,
)
errors.install(api)

api.add_router("", auth.router)
api.add_router("", texter.router)
api.add_router("", organizations.router)
api.add_router("", campaigns.router)
api.add_router("", fake.router)
