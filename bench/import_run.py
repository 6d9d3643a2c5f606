"""W4: one contact upload through the real import path, timed, with the process's memory sampled.

Runs in its own process so its peak resident memory belongs to the import
alone; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path


def _rss_kilobytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _stop_after(args: argparse.Namespace, started: float, baseline: int, peak: list[int]) -> None:
    """Report the rows the import stored within ``--max-seconds`` and end the process."""
    import psycopg

    time.sleep(args.max_seconds)
    with psycopg.connect(os.environ["BENCH_DSN"], autocommit=True) as conn:
        stored = conn.execute("SELECT count(*) FROM campaigns_contact WHERE campaign_id = %s",
                              (args.campaign,)).fetchone()[0]
    print(json.dumps({"seconds": None, "stopped_after_seconds": round(time.perf_counter() - started, 1),
                      "imported": stored, "rss_before_kb": baseline, "rss_peak_kb": peak[0]}), flush=True)
    os._exit(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaign", type=int, required=True, help="campaign id to import into")
    parser.add_argument("--path", required=True, help="CSV file to import")
    parser.add_argument("--max-seconds", type=float, default=0,
                        help="stop after this many seconds and report the rows stored so far (0: no limit)")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "dynassign.settings"
    import django

    django.setup()
    from dynassign.campaigns.importing import import_contacts
    from dynassign.campaigns.models import Campaign

    campaign = Campaign.objects.get(id=args.campaign)
    baseline = _rss_kilobytes()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _rss_kilobytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    if args.max_seconds:
        threading.Thread(target=_stop_after, args=(args, started, baseline, peak), daemon=True).start()
    outcome = import_contacts(campaign, args.path)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    imported = campaign.contacts.count()
    print(json.dumps({"seconds": round(seconds, 1), "imported": imported, "rss_before_kb": baseline,
                      "rss_peak_kb": max(peak[0], _rss_kilobytes()), "outcome": str(outcome)[:300]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
