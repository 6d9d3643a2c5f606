"""The guarantees checked in SQL after every run."""

from __future__ import annotations

from typing import Any

import psycopg

CHECKS = {
    # A contact points at one assignment; it must be one of its own campaign.
    "contacts held across campaigns": """
        SELECT count(*) FROM campaigns_contact c JOIN assignment_assignment a ON a.id = c.assignment_id
        WHERE a.campaign_id <> c.campaign_id""",
    "opted-out contacts in a batch since the run began": """
        SELECT count(*) FROM campaigns_contact c
        JOIN assignment_assignmentevent e ON e.to_assignment_id = c.assignment_id
        WHERE e.id > %(first_event)s AND c.is_opted_out""",
    "batches over their campaign's batch size": """
        SELECT count(*) FROM assignment_assignmentevent e JOIN campaigns_campaign k ON k.id = e.campaign_id
        WHERE e.id > %(first_event)s AND k.batch_size IS NOT NULL AND e.contact_count > k.batch_size""",
    "assignments over max_contacts": """
        SELECT count(*) FROM assignment_assignment a
        WHERE a.max_contacts IS NOT NULL
          AND a.handed_off_count + (SELECT count(*) FROM campaigns_contact c WHERE c.assignment_id = a.id)
              > a.max_contacts""",
    "campaigns over MAX_TEXTERS_PER_CAMPAIGN": """
        SELECT count(*) FROM campaigns_campaign k
        WHERE k.settings ? 'MAX_TEXTERS_PER_CAMPAIGN'
          AND (SELECT count(*) FROM assignment_assignment a WHERE a.campaign_id = k.id)
              > (k.settings ->> 'MAX_TEXTERS_PER_CAMPAIGN')::int""",
    "spoke contacts held across campaigns": """
        SELECT count(*) FROM spoke_campaign_contact c JOIN spoke_assignment a ON a.id = c.assignment_id
        WHERE a.campaign_id <> c.campaign_id""",
}


def last_event_id(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM assignment_assignmentevent").fetchone()[0])


def check(dsn: str, first_event: int) -> dict[str, Any]:
    """Return each check's count of violations; every value must be 0."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {name: int(conn.execute(query, {"first_event": first_event}).fetchone()[0])
                for name, query in CHECKS.items()}
