"""The texters of each workload: dynassign in-process and over HTTP, the Spoke pattern, the floor.

Every W1 texter, whatever it measures, does the same outside the timed
region after each request: it checks that its assignment now holds exactly
the number of contacts the request reported (a contact taken by two
concurrent claims would leave one texter short), then releases them back to
the pool. Releasing keeps the pool at the size of its state ("fresh" or
"90% already assigned") for the whole run, so a small campaign never runs
dry and every request measures a real claim.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import psycopg

from bench.datagen import BATCH_SIZE

CONTACT = "campaigns_contact"

# The floor: dynassign's claim alone, as one raw statement. The candidates
# are picked once (a MATERIALIZED CTE) in the pool index's order, as the
# service picks them; an IN (subquery) form may run the subquery once per
# outer row and claim more than the batch size.
FLOOR_CLAIM = f"""
WITH candidates AS MATERIALIZED (
    SELECT id FROM {CONTACT}
    WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
      AND message_status = 'needsMessage' AND NOT is_opted_out
    ORDER BY timezone, id
    LIMIT {BATCH_SIZE} FOR UPDATE SKIP LOCKED
)
UPDATE {CONTACT} SET assignment_id = %(assignment)s, updated_at = now()
FROM candidates WHERE {CONTACT}.id = candidates.id
"""

HELD = f"SELECT count(*) FROM {CONTACT} WHERE assignment_id = %s"
RELEASE = f"UPDATE {CONTACT} SET assignment_id = NULL WHERE assignment_id = %s"

# The Spoke pattern: the statements one batch request issues, in order.
SPOKE_LOAD_ASSIGNMENT = "SELECT * FROM spoke_assignment WHERE id = %(assignment)s"
SPOKE_LOAD_CAMPAIGN = "SELECT * FROM spoke_campaign WHERE id = %(campaign)s"
SPOKE_TIMEZONES = "SELECT DISTINCT timezone_offset FROM spoke_campaign_contact WHERE campaign_id = %(campaign)s"
SPOKE_LOAD_ORGANIZATION = "SELECT * FROM spoke_organization WHERE id = %(organization)s"
SPOKE_AVAILABLE = """
SELECT count(*) FROM spoke_campaign_contact
WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
  AND is_opted_out = false AND message_status = 'needsMessage'
"""
SPOKE_REPLIES_WAITING = """
SELECT id FROM spoke_campaign_contact
WHERE assignment_id = %(assignment)s AND message_status = 'needsResponse' LIMIT 1
"""
SPOKE_HELD = "SELECT count(*) FROM spoke_campaign_contact WHERE assignment_id = %(assignment)s"
SPOKE_ROLE = "SELECT role FROM spoke_user_organization WHERE user_id = %(user)s AND organization_id = %(organization)s"
SPOKE_CLAIM = f"""
UPDATE spoke_campaign_contact SET assignment_id = %(assignment)s
WHERE id IN (
    SELECT id FROM spoke_campaign_contact
    WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
      AND is_opted_out = false AND message_status = 'needsMessage'
    LIMIT {BATCH_SIZE} FOR UPDATE SKIP LOCKED
)
"""
SPOKE_HELD_CHECK = "SELECT count(*) FROM spoke_campaign_contact WHERE assignment_id = %s"
SPOKE_RELEASE = "UPDATE spoke_campaign_contact SET assignment_id = NULL WHERE assignment_id = %s"


class _Releasing:
    """Checks the texter's holding after a request, then releases it (outside the timed region)."""

    held_query = HELD
    release_query = RELEASE

    def __init__(self, dsn: str, assignment_id: int) -> None:
        self.assignment_id = assignment_id
        self.side = psycopg.connect(dsn, autocommit=True)
        self.side.execute(self.release_query, (assignment_id,))

    def after(self, assigned: int) -> str | None:
        held = self.side.execute(self.held_query, (self.assignment_id,)).fetchone()[0]
        self.side.execute(self.release_query, (self.assignment_id,))
        if held != assigned:
            return f"assignment {self.assignment_id} holds {held} contacts, its request reported {assigned}"
        if assigned > BATCH_SIZE:
            return f"assignment {self.assignment_id} got a batch of {assigned}, over the batch size {BATCH_SIZE}"
        return None

    def close(self) -> None:
        self.side.close()


class ServiceTexter(_Releasing):
    """W1 in-process: calls dynassign's batch request service."""

    def __init__(self, dsn: str, assignment_id: int) -> None:
        super().__init__(dsn, assignment_id)
        from dynassign.assignment import batches

        self.batches = batches

    def request(self) -> int:
        return self.batches.request_batch(self.assignment_id).assigned

    def close(self) -> None:
        from django.db import connection

        connection.close()
        super().close()


class OfferTexter:
    """W2 in-process: asks for the offer behind the request button."""

    def __init__(self, assignment_id: int) -> None:
        from dynassign.assignment import batches

        self.batches = batches
        self.assignment_id = assignment_id

    def request(self) -> int:
        return self.batches.offer(self.assignment_id).count

    def after(self, assigned: int) -> str | None:
        return None

    def close(self) -> None:
        from django.db import connection

        connection.close()


class HttpTexter(_Releasing):
    """W1 or W2 over HTTP against the served app."""

    def __init__(self, dsn: str, port: int, token: str, assignment_id: int, *, offer_only: bool = False) -> None:
        super().__init__(dsn, assignment_id)
        self.port = port
        self.offer_only = offer_only
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def _call(self, method: str, path: str, body: str | None) -> dict[str, Any]:
        try:
            self.connection.request(method, path, body=body, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The worker closed the kept-alive connection; retry once on a new one.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.request(method, path, body=body, headers=self.headers)
            response = self.connection.getresponse()
        payload = response.read()
        if response.will_close:
            self.connection.close()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} returned {response.status}: {payload[:200]!r}")
        return json.loads(payload)

    def request(self) -> int:
        if self.offer_only:
            return int(self._call("GET", f"/api/assignments/{self.assignment_id}/offer", None)["count"])
        answer = self._call("POST", f"/api/assignments/{self.assignment_id}/batches", "{}")
        return int(answer["assigned"])

    def after(self, assigned: int) -> str | None:
        return None if self.offer_only else super().after(assigned)

    def close(self) -> None:
        self.connection.close()
        super().close()


class FloorTexter(_Releasing):
    """The floor: dynassign's claim UPDATE alone, raw SQL in autocommit."""

    def __init__(self, dsn: str, campaign_id: int, assignment_id: int) -> None:
        super().__init__(dsn, assignment_id)
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.params = {"assignment": assignment_id, "campaign": campaign_id}

    def request(self) -> int:
        return self.conn.execute(FLOOR_CLAIM, self.params, prepare=True).rowcount

    def close(self) -> None:
        self.conn.close()
        super().close()


class SpokeTexter(_Releasing):
    """The Spoke pattern's batch request, statement by statement in autocommit."""

    held_query = SPOKE_HELD_CHECK
    release_query = SPOKE_RELEASE

    def __init__(self, dsn: str, organization_id: int, campaign_id: int, assignment_id: int, user_id: int,
                 *, cached: bool) -> None:
        super().__init__(dsn, assignment_id)
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.cached = cached
        self.params = {"assignment": assignment_id, "campaign": campaign_id,
                       "organization": organization_id, "user": user_id}

    def request(self) -> int:
        run = self.conn.execute
        params = self.params
        run(SPOKE_LOAD_ASSIGNMENT, params).fetchall()
        if not self.cached:
            run(SPOKE_LOAD_CAMPAIGN, params).fetchall()
            run(SPOKE_TIMEZONES, params).fetchall()
        run(SPOKE_LOAD_ORGANIZATION, params).fetchall()
        available = run(SPOKE_AVAILABLE, params).fetchone()[0]
        run(SPOKE_REPLIES_WAITING, params).fetchall()
        run(SPOKE_HELD, params).fetchone()
        run(SPOKE_ROLE, params).fetchall()
        if available == 0:
            return 0
        return run(SPOKE_CLAIM, params).rowcount

    def close(self) -> None:
        self.conn.close()
        super().close()


class SpokeCountTexter:
    """The Spoke pattern's availability count alone, the query behind its request button."""

    def __init__(self, dsn: str, campaign_id: int) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.params = {"campaign": campaign_id}

    def request(self) -> int:
        return int(self.conn.execute(SPOKE_AVAILABLE, self.params).fetchone()[0] > 0)

    def after(self, assigned: int) -> str | None:
        return None

    def close(self) -> None:
        self.conn.close()
