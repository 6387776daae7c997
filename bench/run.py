"""Measure the IAM pages at scale, the production way: `python -m bench run`.

    DATABASE_URL=postgres://… DEBUG=1 python -m bench run [--company scale] [--small-company scale1k]
        [--duration 10] [--seconds 3] [--max-requests 500] [--clients 8] [--workers 3] [--port 8765]
        [--base-url URL] [--in-process]

Run it after `seed_demo` and `python -m bench seed_scale` (and `seed_scale --company scale1k --users 1000
--groups 100 --service-accounts 50 --bindings 5000` for the cost-growth figures). It starts gunicorn on
127.0.0.1:--port (DEBUG off, CONN_MAX_AGE=60, the same DATABASE_URL), signs in as owner@<company>.test and
as the demo super user admin@acme.test, and prints for each scenario: requests, p50 / p95 / p99 latency,
requests per second and SQL queries per request (counted in this process with the test Client on the same
view). It ends with the goals of `bench/goals.py` (PASS / FAIL) and stops gunicorn, also on errors and
Ctrl-C.

The floor: before starting gunicorn it records, in this process, the SQL statements of the owner's IAM
partial; gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings (the product's settings, URLs plus
/bench/floor/, which replays them with a plain cursor and a minimal template: bench/floor.py), and the
`floor` scenario compares ours with it request by request.

`--base-url http://127.0.0.1:PORT` measures a server you started yourself (no floor view there: that goal is
not measured); `--in-process` uses Django's test Client instead of HTTP (no gunicorn; the floor view is
served in process the same way; the smoke test runs it on tiny data). Every loop is bounded by
`--max-requests` and by time; only the loopback interface is ever contacted.
"""

from __future__ import annotations

import os
import platform
import time
import urllib.parse

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.color import color_style
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import override_settings

from bench import floor, goals, scenarios
from bench.clients import HttpClient, InProcessClient
from bench.loops import Limits, run_get
from bench.scenarios import ADMIN_EMAIL, HX
from bench.seed import identity_count, scale_users
from bench.server import GunicornServer, port_in_use
from bench.stats import Result, result_table
from iam_portal.access import catalogue
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, User
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Project

DEFAULT_PORT = 8765


def add_arguments(parser) -> None:
    parser.add_argument("--company", default="scale", help="The large company (seed_scale).")
    parser.add_argument(
        "--small-company", default="scale1k", help="A 10x smaller company for the cost-growth figures."
    )
    parser.add_argument("--demo-company", default="acme", help="A company of about 10 identities.")
    parser.add_argument(
        "--base-url", default="", help="Measure this loopback server instead of starting gunicorn."
    )
    parser.add_argument("--in-process", action="store_true", help="Use the test Client, no HTTP server.")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"Loopback port of gunicorn (default {DEFAULT_PORT})."
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (default 3).")
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds of mixed load (default 10).")
    parser.add_argument("--seconds", type=float, default=3.0, help="Time limit per scenario (default 3).")
    parser.add_argument("--max-requests", type=int, default=500, help="Request limit per scenario.")
    parser.add_argument("--warmup", type=int, default=5, help="Untimed requests before each scenario.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients of the mixed load.")
    parser.add_argument("--iterations", type=int, default=2000, help="In-process permission checks.")
    parser.add_argument(
        "--deep", type=int, default=50, help="How many times to follow Next for the deep page."
    )
    parser.add_argument("--search", default="user-12", help="The search of the search scenarios.")
    parser.add_argument("--password", default=DEMO_PASSWORD, help="Password of the owner and admin accounts.")
    parser.add_argument("--seed", type=int, default=7, help="Seed of the mixed-load request mix.")
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated scenarios to run (e.g. pages,preview); the goals of the others are not measured.",
    )


def _check_options(o: dict) -> None:
    if o["base_url"] and o["in_process"]:
        raise CommandError("Choose --base-url or --in-process, not both.")
    if o["max_requests"] < 1 or o["seconds"] <= 0 or o["duration"] <= 0 or o["clients"] < 1:
        raise CommandError("--max-requests, --seconds, --duration and --clients must be positive.")
    if not 0 < o["port"] < 65536:
        raise CommandError("--port must be between 1 and 65535.")
    unknown = set(filter(None, o["only"].split(","))) - {scenario.__name__ for scenario in scenarios.ALL}
    if unknown:
        names = ", ".join(scenario.__name__ for scenario in scenarios.ALL)
        raise CommandError(f"--only: no scenario {', '.join(sorted(unknown))}; choose among {names}.")


def benchmark(o: dict, out) -> None:
    """The `run` subcommand: o holds its parsed options, out is a Django OutputWrapper."""
    _check_options(o)
    hosts = [*settings.ALLOWED_HOSTS, "127.0.0.1", "testserver"]
    # In this process: no debug cursor (it would slow the in-process timings), any test host.
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False):
        bench = Bench(o, out)
        bench.prepare()
        if o["base_url"]:  # a server we did not start has no floor view
            bench.run(o["base_url"])
            return
        with floor.statements_file(bench.floor_capture()) as statements:
            if o["in_process"]:
                # The floor view beside the product's URLs, as bench.settings serves them to gunicorn.
                with override_settings(ROOT_URLCONF="bench.urls", BENCH_FLOOR_STATEMENTS=statements):
                    bench.run(None)
            else:
                _run_with_gunicorn(bench, o, out, statements)


def _run_with_gunicorn(bench: Bench, o: dict, out, floor_statements: str) -> None:
    if connection.vendor != "postgresql":
        raise CommandError(
            "The benchmark serves the app with gunicorn on PostgreSQL: set DATABASE_URL=postgres://… "
            "(or use --in-process)."
        )
    if port_in_use(o["port"]):
        raise CommandError(
            f"Something already listens on 127.0.0.1:{o['port']}: choose another --port, "
            "or measure that server with --base-url."
        )
    url = os.environ.get("DATABASE_URL", "")
    server = GunicornServer(
        port=o["port"],
        workers=o["workers"],
        database_url=url,
        base_dir=settings.BASE_DIR,
        # The product's settings plus the floor view at /bench/floor/ (bench/settings.py, bench/urls.py).
        extra_env={"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_FLOOR_STATEMENTS": floor_statements},
    )
    out.write(f"Starting gunicorn ({o['workers']} sync workers) on {server.base_url} …")
    with server:
        out.write(f"gunicorn is up (log: {server.log.name}).")
        bench.run(server.base_url)
    out.write("gunicorn stopped.")


class Bench:
    """One run: the data it measures, its signed-in clients, and every result so far."""

    def __init__(self, options: dict, out):
        self.o, self.out = options, out
        self.limits = Limits(options["max_requests"], options["seconds"], options["warmup"])
        self.results: list[Result] = []
        self.notes: list[str] = []
        self.query_counts: dict[tuple, tuple[int, int]] = {}
        self.floor_statements: list | None = None  # what the floor view replays; None: no floor this run

    # -- setup ------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        o = self.o
        self.company = Company.objects.filter(slug=o["company"]).first()
        if self.company is None:
            raise CommandError(
                f"No company {o['company']!r}: run `python -m bench seed_scale --company {o['company']}` first."
            )
        self.company_users = scale_users(self.company.slug).count()  # picks the 10k or 100k goals
        self.owner = self.owner_of(self.company)
        if self.owner is None:
            raise CommandError(f"No owner@{self.company.slug}.test: the company was not made by seed_scale.")
        self.small = Company.objects.filter(slug=o["small_company"]).first()
        self.small_owner = self.small and self.owner_of(self.small)
        self.small_users = self.small and scale_users(self.small.slug).count()
        self.demo = Company.objects.filter(slug=o["demo_company"]).first()
        self.demo_owner = self.demo and self.owner_of(self.demo)
        self.admin = User.objects.filter(email=ADMIN_EMAIL, is_superuser=True).first()
        self.project = Project.objects.filter(company=self.company).order_by("slug").first()
        self.group = Group.objects.filter(company=self.company).order_by("name").first()
        # Role-change targets: users with a direct Guest/Reporter company role (never the owner). The IAM
        # table shows the effective role, so those whose groups hold no company role come first: the toggle
        # of the first one must show in the table.
        shadowed = GroupMembership.objects.filter(
            user_id=OuterRef("user_id"), group__role_bindings__company=self.company
        )
        targets = (
            RoleBinding.objects.filter(
                company=self.company, user__isnull=False, role__in=[catalogue.GUEST, catalogue.REPORTER]
            )
            .annotate(shadowed=Exists(shadowed))
            .select_related("user")
            .order_by("shadowed", "user_id")[: o["clients"] + 1]
        )
        self.edit_targets = [b.user for b in targets]
        if not self.edit_targets:
            raise CommandError("No user with a Guest or Reporter company role to toggle.")
        self.out.write(
            f"Company {self.company.slug}: ~{identity_count(self.company)} identities, "
            f"{RoleBinding.objects.filter(company=self.company).count()} company bindings; "
            f"database {connection.vendor} {connection.settings_dict.get('NAME')}; "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs."
        )

    def floor_capture(self) -> list:
        """The statements of the owner's IAM partial, for the floor view to replay (bench/floor.py)."""
        only = set(filter(None, self.o["only"].split(",")))
        if only and "floor" not in only:
            self.floor_statements = []
            return self.floor_statements
        path = self.url(self.company, "iam")
        self.floor_statements, writes = floor.statements_capture(self.owner, path, HX)
        self.out.write(
            f"Floor: {len(self.floor_statements)} reading statements of {path} captured"
            + (f" ({writes} writes left out)" if writes else "")
            + "."
        )
        return self.floor_statements

    @staticmethod
    def owner_of(company: Company) -> User | None:
        return User.objects.filter(email=f"owner@{company.slug}.test").first()

    def url(self, company: Company, page: str, **query) -> str:
        path = {
            "iam": f"/companies/{company.slug}/iam/",
            "users": f"/companies/{company.slug}/users/",
            "groups": f"/companies/{company.slug}/groups/",
            "sas": f"/companies/{company.slug}/service-accounts/",
            "overview": f"/companies/{company.slug}/",
        }.get(page, page)
        return path + (f"?{urllib.parse.urlencode(query)}" if query else "")

    def clients(self, base_url: str | None):
        """Signed-in clients: owner of the big company, its admin, owner of the small company."""

        def make(user):
            if user is None:
                return None
            if base_url is None:
                return InProcessClient(user)
            client = HttpClient(base_url)
            client.login(user.email, self.o["password"])
            return client

        return make(self.owner), make(self.admin), make(self.small_owner)

    # -- the run ----------------------------------------------------------------------------------------

    def run(self, base_url: str | None) -> None:
        started = time.perf_counter()
        self.base_url = base_url
        mode = "in-process test Client (no HTTP)" if base_url is None else f"HTTP {base_url}"
        self.out.write(
            f"Mode: {mode}; per scenario ≤ {self.limits.max_requests} requests or ≤ {self.limits.seconds:g} s."
        )
        self.client, self.admin_client, self.small_client = self.clients(base_url)
        # The floor view needs no session: a client that never signs in.
        self.floor_client = InProcessClient(None) if base_url is None else HttpClient(base_url)
        self.counter = InProcessClient(self.owner)  # query counts, always in process
        try:
            only = set(filter(None, self.o["only"].split(",")))
            self.ran = set()
            for scenario in scenarios.ALL:
                if not only or scenario.__name__ in only:
                    scenario(self)
                    self.ran.add(scenario.__name__)
        finally:
            for client in (self.client, self.admin_client, self.small_client, self.floor_client):
                if client is not None:
                    client.close()
        self.section("All scenarios")
        self.out.write(result_table(self.results))
        goals.summary(self)
        for note in self.notes:
            self.out.write(f"note: {note}")
        self.out.write(f"Benchmark finished in {time.perf_counter() - started:.0f} s.")

    def section(self, title: str) -> None:
        self.out.write("")
        self.out.write(color_style().MIGRATE_HEADING(f"== {title}"))

    def header(self) -> None:
        """The column titles of the result table, before the rows of a section."""
        self.out.write(result_table([]).splitlines()[0])

    def record(self, result: Result, *, path: str | None = None, headers=None, counter=None) -> Result:
        if path is not None and result.queries is None:
            counter = counter or self.counter
            key = (id(counter), path, tuple(sorted((headers or {}).items())))
            if key not in self.query_counts:  # one in-process count per page and user
                self.query_counts[key] = counter.count_queries("GET", path, headers)
            status, result.queries = self.query_counts[key]
            if status != 200:
                result.note += f" (in-process status {status})"
        self.results.append(result)
        self.out.write(result_table([result]).splitlines()[-1])
        return result

    def measure(
        self, name: str, path: str, headers=None, note: str = "", client=None, counter=None
    ) -> Result:
        return self.record(
            run_get(name, client or self.client, path, self.limits, headers, note=note),
            path=path,
            headers=headers,
            counter=counter,
        )

    def available(self, path: str, client=None) -> bool:
        status = (client or self.client).get(path, HX).status
        if status != 200:
            self.notes.append(f"{path} answered {status}: skipped (page not built yet?)")
        return status == 200
