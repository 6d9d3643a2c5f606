"""``dynassign simulate``: drive a running dynassign server over HTTP like a text-a-thon.

Texters sign up and follow the join link at once. Each then repeatedly
requests a batch and sends the initial message to every contact in it. Some
contacts reply through the fake message service, and the texter responds to
or closes each reply. Sometimes a texter releases the rest of a batch. The run ends when no
texter can get more and nothing is left to answer, or at ``--max-seconds``.
It then prints what happened and checks through the API that no contact was
held by two texters, that every ``max_contacts`` held and that no opted-out
contact was handed out; any violation makes the command exit non-zero.

Only servers on this machine can be driven: ``--url`` must be a loopback
address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

log = logging.getLogger(__name__)

API = "/api"
PASSWORD_BYTES = 12
# Retries of a request that got 503 (the database was busy), and the pause between them.
BUSY_RETRIES = 5
BUSY_PAUSE_SECONDS = 0.2
# Pause of a texter who has nothing to do before it requests an offer again.
IDLE_PAUSE_SECONDS = 1.0
# A texter whose requests fail this many times stops, so a broken server ends the run.
MAX_TEXTER_ERRORS = 20
PAGE_LIMIT = 1000
REPLY_TEXTS = ["Yes, count me in!", "Who is this?", "Maybe, tell me more.", "Not interested, thanks."]
ANSWER_TEXT = "Thanks for your reply! Here is how to get involved."
# Fraction of replies that get a response; the texter closes the rest.
ANSWER_SHARE = 0.7


class ApiError(Exception):
    """A response whose status the simulator did not expect."""

    def __init__(self, kind: str, status: int, body: str) -> None:
        super().__init__(f"{kind} returned HTTP {status}: {body[:300]}")
        self.kind = kind
        self.status = status


def check_loopback_url(url: str, option: str = "--url") -> httpx.URL:
    """Return ``url`` parsed, rejecting anything but http(s) on a loopback address."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise CommandError(f"{option} {url!r} is not a valid URL ({error}); use e.g. http://127.0.0.1:8000.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise CommandError(f"{option} {url!r} must be an http:// or https:// URL, e.g. http://127.0.0.1:8000.")
    if not is_loopback_host(parsed.host):
        raise CommandError(
            f"{option} {url!r} points at {parsed.host!r}, which is not this machine; the simulator only drives "
            "a server on a loopback address (127.0.0.0/8, ::1 or localhost)."
        )
    return parsed


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def join_token_from(link: str) -> str:
    """Return the join token of a join link given as a token, a path or a loopback URL."""
    text = link.strip()
    if "://" in text:
        text = check_loopback_url(text, "--join-link").path
    token = text.rstrip("/").rsplit("/", 1)[-1]
    if not token:
        raise CommandError(f"--join-link {link!r} contains no join token; pass the link an admin shared, e.g. /api/join/TOKEN.")
    return token


@dataclass
class Metrics:
    """Counts of the texters' actions and the server's responses, with request latencies in seconds."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    batch_requests: int = 0
    contacts_assigned: int = 0
    contacts_texted: int = 0
    replies: int = 0
    answered: int = 0
    closed: int = 0
    releases: int = 0
    released_contacts: int = 0

    def record(self, kind: str, status: int, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.statuses[status] += 1

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def percentiles(values: list[float]) -> dict[int, float]:
    """Return the 50th, 95th and 99th percentiles (nearest rank) of ``values`` in milliseconds."""
    if not values:
        return {50: 0.0, 95: 0.0, 99: 0.0}
    ordered = sorted(values)
    result = {}
    for rank in (50, 95, 99):
        index = min(len(ordered) - 1, max(0, -(-rank * len(ordered) // 100) - 1))
        result[rank] = ordered[index] * 1000
    return result


@dataclass
class Ledger:
    """The simulator's own record of which texter has which contact, to check the server against.

    A texter's contacts are entered when its listing first shows them and
    removed just before it releases them, so a contact released by one
    texter and then requested by another is never counted as shared.
    """

    owner: dict[int, int] = field(default_factory=dict)
    received: dict[int, set[int]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def receive(self, texter: int, contact: dict[str, Any]) -> None:
        contact_id = contact["id"]
        holder = self.owner.get(contact_id)
        if holder is not None and holder != texter:
            self.violations.append(f"contact {contact_id} was handed to texter {texter} while texter {holder} held it")
        if contact.get("is_opted_out"):
            self.violations.append(f"opted-out contact {contact_id} was handed to texter {texter}")
        self.owner[contact_id] = texter
        self.received.setdefault(texter, set()).add(contact_id)

    def release(self, texter: int, contact_ids: list[int]) -> None:
        for contact_id in contact_ids:
            if self.owner.get(contact_id) == texter:
                del self.owner[contact_id]

    def held_by(self, texter: int) -> set[int]:
        return {contact_id for contact_id, holder in self.owner.items() if holder == texter}


def check_final_listing(
    ledger: Ledger, contacts: list[dict[str, Any]], assignment_of: dict[int, int], campaign_assignments: set[int]
) -> list[str]:
    """Compare the server's contact listing with the ledger; return one message per violation.

    ``assignment_of`` maps each simulated texter to its assignment id and
    ``campaign_assignments`` contains every assignment id of the campaign.
    """
    violations = []
    by_id = {contact["id"]: contact for contact in contacts}
    for contact in contacts:
        holder = contact["assignment_id"]
        if holder is not None and holder not in campaign_assignments:
            violations.append(f"contact {contact['id']} is held by assignment {holder}, which is not in the campaign")
        if holder is not None and contact["is_opted_out"] and contact["message_status"] == "needsMessage":
            violations.append(f"opted-out contact {contact['id']} is assigned to assignment {holder} without a message")
    for contact_id, texter in ledger.owner.items():
        contact = by_id.get(contact_id)
        expected = assignment_of[texter]
        if contact is None:
            violations.append(f"contact {contact_id} held by texter {texter} is missing from the campaign listing")
        elif contact["assignment_id"] != expected:
            violations.append(
                f"contact {contact_id} should be held by texter {texter} (assignment {expected}) "
                f"but the server lists assignment {contact['assignment_id']}"
            )
    return violations


def check_limits(texters: list[dict[str, Any]]) -> list[str]:
    """Return one message per texter whose counted contacts exceed max_contacts."""
    violations = []
    for texter in texters:
        limit = texter["max_contacts"]
        counted = texter["counts"]["counted_against_limit"]
        if limit is not None and counted > limit:
            violations.append(f"assignment {texter['assignment_id']} counts {counted} contacts against max_contacts {limit}")
    return violations


@dataclass
class Settings:
    url: str
    texters: int
    reply_rate: float
    release_rate: float
    seed: int
    max_seconds: float
    concurrency: int


class Simulation:
    """One run: the HTTP client, the texters' shared state and the results."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.metrics = Metrics()
        self.ledger = Ledger()
        self.deadline = time.monotonic() + settings.max_seconds
        self.bound_hit = False
        self.admin_token = ""
        self.campaign_id = 0
        self.outbound_unassign = False
        self.assignment_of: dict[int, int] = {}
        self.idle: set[int] = set()
        self.finished: set[int] = set()

    # HTTP

    async def call(
        self, kind: str, method: str, path: str, token: str, *, json: Any = None, params: dict[str, Any] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Any:
        """Send one API request, retrying while the server returns 503, and return the JSON body."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(BUSY_RETRIES + 1):
            started = time.perf_counter()
            response = await self.client.request(method, API + path, json=json, params=params, headers=headers)
            self.metrics.record(kind, response.status_code, time.perf_counter() - started)
            if response.status_code != 503 or attempt == BUSY_RETRIES:
                break
            log.info("server busy on %s, retry %d", kind, attempt + 1)
            await asyncio.sleep(BUSY_PAUSE_SECONDS)
        if response.status_code not in expect:
            raise ApiError(kind, response.status_code, response.text)
        return response.json()

    def out_of_time(self) -> bool:
        if time.monotonic() >= self.deadline:
            self.bound_hit = True
            return True
        return False

    # Set-up

    async def sign_in_admin(self, username: str, password: str) -> None:
        body = await self.call("POST /auth/token", "POST", "/auth/token", "", json={"username": username, "password": password})
        self.admin_token = body["token"]

    async def join_token_for(self, campaign_id: int) -> str:
        campaign = await self.call("GET /campaigns/{id}", "GET", f"/campaigns/{campaign_id}", self.admin_token)
        return campaign["join_token"]

    async def read_campaign_settings(self) -> None:
        campaign = await self.call("GET /campaigns/{id}", "GET", f"/campaigns/{self.campaign_id}", self.admin_token)
        self.outbound_unassign = bool(campaign["resolved_settings"].get("OUTBOUND_UNASSIGN"))

    async def sign_up_and_join(self, index: int, run_id: str, join_token: str) -> tuple[int, str, int, int]:
        username = f"sim-{run_id}-{index}"
        body = await self.call(
            "POST /auth/signup", "POST", "/auth/signup", "", expect=(201,),
            json={"username": username, "password": secrets.token_urlsafe(PASSWORD_BYTES), "first_name": f"Texter {index}"},
        )
        token = body["token"]
        assignment = await self.call("POST /join/{token}", "POST", f"/join/{join_token}", token, expect=(200, 201))
        return index, token, assignment["id"], assignment["campaign_id"]

    # Texters

    async def list_held(self, token: str, assignment_id: int, status: str) -> list[dict[str, Any]]:
        contacts: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            page = await self.call(
                "GET /assignments/{id}/contacts", "GET", f"/assignments/{assignment_id}/contacts", token,
                params={"status": status, "limit": PAGE_LIMIT, "offset": offset},
            )
            contacts.extend(page["items"])
            offset = page["next_offset"]
        return contacts

    async def contact_replies(self, contact_id: int, rng: random.Random) -> None:
        await self.call(
            "POST /fake/replies", "POST", "/fake/replies", self.admin_token,
            json={"contact_id": contact_id, "text": rng.choice(REPLY_TEXTS)},
        )
        self.metrics.replies += 1

    async def send_initial(self, texter: int, token: str, contacts: list[dict[str, Any]], rng: random.Random) -> None:
        for contact in contacts:
            body = await self.call(
                "POST /contacts/{id}/messages", "POST", f"/contacts/{contact['id']}/messages", token, json={"initial": True}
            )
            if not body["sent"]:
                continue
            self.metrics.contacts_texted += 1
            if self.outbound_unassign:
                self.ledger.release(texter, [contact["id"]])
            if rng.random() < self.settings.reply_rate:
                await self.contact_replies(contact["id"], rng)

    async def answer_replies(self, token: str, assignment_id: int, rng: random.Random) -> int:
        waiting = await self.list_held(token, assignment_id, "needsResponse")
        for contact in waiting:
            path = f"/contacts/{contact['id']}"
            if rng.random() < ANSWER_SHARE:
                await self.call("POST /contacts/{id}/messages", "POST", path + "/messages", token, json={"text": ANSWER_TEXT})
                self.metrics.answered += 1
            else:
                await self.call("POST /contacts/{id}/close", "POST", path + "/close", token)
                self.metrics.closed += 1
        return len(waiting)

    async def receive_batch(self, texter: int, token: str, assignment_id: int, assigned: int) -> list[dict[str, Any]]:
        """List the texter's unsent contacts, entering the new ones in the ledger."""
        unsent = await self.list_held(token, assignment_id, "needsMessage")
        known = self.ledger.received.get(texter, set())
        new = [contact for contact in unsent if contact["id"] not in known or contact["id"] not in self.ledger.owner]
        if len(new) != assigned:
            self.ledger.violations.append(
                f"texter {texter}'s batch reported {assigned} contacts assigned but {len(new)} new contacts appeared"
            )
        for contact in new:
            self.ledger.receive(texter, contact)
        return unsent

    async def release_rest(self, texter: int, token: str, assignment_id: int, unsent: list[dict[str, Any]]) -> None:
        # The ledger lets go first: once the server has released them another
        # texter may get these contacts, possibly before this coroutine resumes.
        self.ledger.release(texter, [contact["id"] for contact in unsent])
        try:
            body = await self.call(
                "POST /assignments/{id}/release", "POST", f"/assignments/{assignment_id}/release", token,
                json={"conversations": False},
            )
        except ApiError:
            for contact in unsent:
                self.ledger.owner[contact["id"]] = texter
            raise
        self.metrics.releases += 1
        self.metrics.released_contacts += body["released"]

    async def request_and_text(self, texter: int, token: str, assignment_id: int, rng: random.Random) -> dict[str, Any]:
        """Request one batch and work through it; return the batch response."""
        body = await self.call(
            "POST /assignments/{id}/batches", "POST", f"/assignments/{assignment_id}/batches", token, json={}
        )
        self.metrics.batch_requests += 1
        if body["assigned"] == 0:
            self.metrics.refusals[body["offer"]["reason"] or "none"] += 1
        else:
            self.metrics.batches += 1
            self.metrics.contacts_assigned += body["assigned"]
        unsent = await self.receive_batch(texter, token, assignment_id, body["assigned"])
        if unsent and rng.random() < self.settings.release_rate:
            keep = len(unsent) // 2
            await self.send_initial(texter, token, unsent[:keep], rng)
            await self.release_rest(texter, token, assignment_id, unsent[keep:])
        else:
            await self.send_initial(texter, token, unsent, rng)
        return body

    async def run_texter(self, texter: int, token: str, assignment_id: int) -> None:
        rng = random.Random(f"{self.settings.seed}-{texter}")
        failures = 0
        while not self.out_of_time():
            try:
                answered = await self.answer_replies(token, assignment_id, rng)
                body = await self.request_and_text(texter, token, assignment_id, rng)
            except (ApiError, httpx.HTTPError) as error:
                failures += 1
                self.metrics.errors[type(error).__name__ if isinstance(error, httpx.HTTPError) else error.kind] += 1
                log.warning("texter %s assignment %s: %s", texter, assignment_id, error)
                if failures >= MAX_TEXTER_ERRORS:
                    log.error("texter %s stops after %d failed requests", texter, failures)
                    break
                continue
            if body["assigned"] > 0 or answered > 0 or body["offer"]["reason"] in ("replies_pending", "batch_unfinished"):
                self.idle.discard(texter)
                continue
            if body["offer"]["reason"] != "nothing_left":
                # Not vetted, limit reached, campaign closed, outside hours: nothing this texter can change.
                break
            self.idle.add(texter)
            if self.idle | self.finished >= set(self.assignment_of):
                break
            await asyncio.sleep(IDLE_PAUSE_SECONDS)
        self.finished.add(texter)
        self.idle.discard(texter)
        log.info("texter %s assignment %s finished", texter, assignment_id)

    # Checks

    async def campaign_contacts(self) -> list[dict[str, Any]]:
        contacts: list[dict[str, Any]] = []
        after_id: int | None = 0
        while after_id is not None:
            page = await self.call(
                "GET /campaigns/{id}/contacts", "GET", f"/campaigns/{self.campaign_id}/contacts", self.admin_token,
                params={"after_id": after_id, "limit": PAGE_LIMIT},
            )
            contacts.extend(page["items"])
            after_id = page["next_after_id"]
        return contacts

    async def campaign_texters(self) -> list[dict[str, Any]]:
        texters: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            page = await self.call(
                "GET /campaigns/{id}/texters", "GET", f"/campaigns/{self.campaign_id}/texters", self.admin_token,
                params={"offset": offset, "limit": PAGE_LIMIT},
            )
            texters.extend(page["items"])
            offset = page["next_offset"]
        return texters

    async def final_checks(self) -> tuple[list[str], dict[str, Any]]:
        contacts = await self.campaign_contacts()
        texters = await self.campaign_texters()
        stats = await self.call("GET /campaigns/{id}/stats", "GET", f"/campaigns/{self.campaign_id}/stats", self.admin_token)
        campaign_assignments = {texter["assignment_id"] for texter in texters}
        violations = list(self.ledger.violations)
        violations += check_final_listing(self.ledger, contacts, self.assignment_of, campaign_assignments)
        violations += check_limits(texters)
        return violations, stats


class Command(BaseCommand):
    help = (
        "Simulate a text-a-thon against a running dynassign server on this machine: texters join, request "
        "batches, text, answer replies and release, then the invariants are checked through the API."
    )
    # The simulator is an HTTP client: it needs neither this process's database nor its checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Server base URL on a loopback address (default: %(default)s).")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--join-link", help="The campaign's join link: a URL on the server, /api/join/TOKEN or TOKEN.")
        target.add_argument("--campaign", type=int, help="Campaign id; its join link is read with the admin account.")
        parser.add_argument("--admin-user", required=True, help="Username of an admin of the campaign's organization.")
        parser.add_argument("--admin-password", required=True, help="Password of that admin.")
        parser.add_argument("--texters", type=int, default=50, help="Texters who sign up and join at once (default: %(default)s).")
        parser.add_argument("--reply-rate", type=float, default=0.1, help="Fraction of texted contacts that reply, 0-1 (default: %(default)s).")
        parser.add_argument(
            "--release-rate", type=float, default=0.05,
            help="Fraction of batches whose unsent half the texter releases, 0-1 (default: %(default)s).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Seed of the texters' and contacts' random choices (default: %(default)s).")
        parser.add_argument("--max-seconds", type=float, default=300.0, help="Stop texting after this many seconds (default: %(default)s).")
        parser.add_argument(
            "--concurrency", type=int, default=10, help="Most HTTP requests in flight at once (default: %(default)s)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = check_loopback_url(options["url"])
        settings = Settings(
            url=str(url).rstrip("/"),
            texters=_bounded(options["texters"], "--texters", 1, 10_000),
            reply_rate=_fraction(options["reply_rate"], "--reply-rate"),
            release_rate=_fraction(options["release_rate"], "--release-rate"),
            seed=options["seed"],
            max_seconds=_positive(options["max_seconds"], "--max-seconds"),
            concurrency=_bounded(options["concurrency"], "--concurrency", 1, 1000),
        )
        join_token = join_token_from(options["join_link"]) if options["join_link"] else None
        violations = asyncio.run(self._run(settings, options, join_token))
        if violations:
            raise CommandError(f"{len(violations)} invariant violations; see the list above.")

    async def _run(self, settings: Settings, options: dict[str, Any], join_token: str | None) -> list[str]:
        limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
        # trust_env=False keeps proxy variables from routing requests off this machine.
        async with httpx.AsyncClient(
            base_url=settings.url, limits=limits, timeout=60.0, trust_env=False, follow_redirects=False
        ) as client:
            simulation = Simulation(settings, client)
            try:
                return await self._simulate(simulation, options, join_token)
            except ApiError as error:
                raise CommandError(f"The simulation could not start or finish: {error}") from None
            except httpx.HTTPError as error:
                raise CommandError(f"Could not reach {settings.url}: {error}; is the server running?") from None

    async def _simulate(self, simulation: Simulation, options: dict[str, Any], join_token: str | None) -> list[str]:
        settings = simulation.settings
        await simulation.sign_in_admin(options["admin_user"], options["admin_password"])
        if join_token is None:
            join_token = await simulation.join_token_for(options["campaign"])

        run_id = secrets.token_hex(3)
        log.info("simulation %s starts: %d texters against %s", run_id, settings.texters, settings.url)
        started = time.monotonic()
        joined = await asyncio.gather(
            *(simulation.sign_up_and_join(index, run_id, join_token) for index in range(settings.texters))
        )
        simulation.campaign_id = joined[0][3]
        simulation.assignment_of = {index: assignment_id for index, _, assignment_id, _ in joined}
        await simulation.read_campaign_settings()

        await asyncio.gather(*(simulation.run_texter(index, token, assignment_id) for index, token, assignment_id, _ in joined))
        elapsed = time.monotonic() - started
        violations, stats = await simulation.final_checks()
        log.info("simulation %s stops after %.1f s with %d violations", run_id, elapsed, len(violations))
        self._report(simulation, elapsed, stats, violations)
        return violations

    def _report(self, simulation: Simulation, elapsed: float, stats: dict[str, Any], violations: list[str]) -> None:
        metrics = simulation.metrics
        settings = simulation.settings
        write = self.stdout.write

        if simulation.bound_hit:
            outcome = f"stopped at the --max-seconds bound ({settings.max_seconds:g} s)"
        elif stats["pool"] == 0 and stats["needsResponse"] == 0:
            outcome = "campaign done: no contact left to request, no reply waiting"
        else:
            outcome = "no texter can request more"

        write(f"Simulated {settings.texters} texters on campaign {simulation.campaign_id} at {settings.url}, seed {settings.seed}")
        write(f"Outcome: {outcome} after {elapsed:.1f} s")
        write(
            f"Contacts: {metrics.contacts_texted} texted, {metrics.replies} replies "
            f"({metrics.answered} answered, {metrics.closed} closed), {metrics.releases} releases "
            f"returning {metrics.released_contacts} contacts"
        )
        refusals = ", ".join(f"{reason} {count}" for reason, count in metrics.refusals.most_common()) or "none"
        write(
            f"Batches: {metrics.batch_requests} requests, {metrics.batches} assigned {metrics.contacts_assigned} contacts; "
            f"refusals by reason: {refusals}"
        )

        everything = [value for values in metrics.latencies.values() for value in values]
        overall = percentiles(everything)
        batch = percentiles(metrics.latencies.get("POST /assignments/{id}/batches", []))
        write(f"Requests: {metrics.requests} in {elapsed:.1f} s, {metrics.requests / max(elapsed, 1e-9):.1f}/s")
        write(f"Latency ms, all requests: p50 {overall[50]:.1f}, p95 {overall[95]:.1f}, p99 {overall[99]:.1f}")
        write(f"Latency ms, batch requests: p50 {batch[50]:.1f}, p95 {batch[95]:.1f}, p99 {batch[99]:.1f}")
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(metrics.statuses.items()))
        write(f"HTTP statuses: {statuses}")
        if metrics.errors:
            write("Failed requests: " + ", ".join(f"{kind} {count}" for kind, count in metrics.errors.most_common()))
        write(
            f"Campaign: {stats['total']} contacts, {stats['pool']} in the pool, {stats['assigned']} assigned, "
            f"{stats['opted_out']} opted out, {stats['needsResponse']} replies waiting"
        )

        if violations:
            write(f"Invariant violations ({len(violations)}):")
            for violation in violations:
                write(f"  {violation}")
        else:
            write(
                "Invariants hold: no contact held by two texters, no batch held another texter's contact, "
                "every max_contacts respected, no opted-out contact handed out"
            )


def _fraction(value: float, option: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise CommandError(f"{option} must be a fraction between 0 and 1, not {value}.")
    return value


def _positive(value: float, option: str) -> float:
    if value <= 0:
        raise CommandError(f"{option} must be a positive number of seconds, not {value}.")
    return value


def _bounded(value: int, option: str, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise CommandError(f"{option} must be between {minimum} and {maximum}, not {value}.")
    return value
