"""Measure the IAM pages at scale, the production way: `manage.py benchmark`.

    DATABASE_URL=postgres://… DEBUG=1 manage.py benchmark [--company scale] [--small-company scale1k]
        [--duration 10] [--seconds 3] [--max-requests 500] [--clients 8] [--workers 3] [--base-url URL]
        [--in-process]

Run it after `seed_demo` and `seed_scale` (and `seed_scale --company scale1k --users 1000 --groups 100
--service-accounts 50 --bindings 5000` for the cost-growth figures). It starts gunicorn on a free loopback
port (DEBUG off, CONN_MAX_AGE=60, the same DATABASE_URL), signs in as owner@<company>.test and as the demo
super user admin@acme.test, and prints for each scenario: requests, p50 / p95 / p99 latency, requests per
second and SQL queries per request (counted in this process with the test Client on the same view). It
ends with a table of the goals of issue 5 (PASS / FAIL) and stops gunicorn, also on errors and Ctrl-C.

`--base-url http://127.0.0.1:PORT` measures a server you started yourself; `--in-process` uses Django's
test Client instead of HTTP (no gunicorn; the smoke test runs it on tiny data). Every loop is bounded by
`--max-requests` and by time; only the loopback interface is ever contacted.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from iam_portal import benchmarking as bm
from iam_portal.access import catalogue
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.identities.models import Group, User
from iam_portal.orgs.management.commands.seed_demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, Project

HX = {"HX-Request": "true"}
ADMIN_EMAIL = "admin@acme.test"


@dataclass
class Goal:
    name: str
    measured: str
    ok: bool | None  # None: not measured


class Command(BaseCommand):
    help = "Benchmark the IAM pages with gunicorn on the seed_scale data and compare with the Django admin."

    def add_arguments(self, parser):
        parser.add_argument("--company", default="scale", help="The large company (seed_scale).")
        parser.add_argument(
            "--small-company", default="scale1k", help="A 10x smaller company for the cost-growth figures."
        )
        parser.add_argument("--demo-company", default="acme", help="A company of about 10 identities.")
        parser.add_argument(
            "--base-url", default="", help="Measure this loopback server instead of starting gunicorn."
        )
        parser.add_argument("--in-process", action="store_true", help="Use the test Client, no HTTP server.")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (default 3).")
        parser.add_argument(
            "--duration", type=float, default=10.0, help="Seconds of mixed load (default 10)."
        )
        parser.add_argument("--seconds", type=float, default=3.0, help="Time limit per scenario (default 3).")
        parser.add_argument("--max-requests", type=int, default=500, help="Request limit per scenario.")
        parser.add_argument("--warmup", type=int, default=5, help="Untimed requests before each scenario.")
        parser.add_argument("--clients", type=int, default=8, help="Concurrent clients of the mixed load.")
        parser.add_argument("--iterations", type=int, default=2000, help="In-process permission checks.")
        parser.add_argument(
            "--deep", type=int, default=50, help="How many times to follow Next for the deep page."
        )
        parser.add_argument("--search", default="user-12", help="The search of the search scenarios.")
        parser.add_argument(
            "--password", default=DEMO_PASSWORD, help="Password of the owner and admin accounts."
        )
        parser.add_argument("--seed", type=int, default=7, help="Seed of the mixed-load request mix.")

    def handle(self, *args, **o):
        if o["base_url"] and o["in_process"]:
            raise CommandError("Choose --base-url or --in-process, not both.")
        if o["max_requests"] < 1 or o["seconds"] <= 0 or o["duration"] <= 0 or o["clients"] < 1:
            raise CommandError("--max-requests, --seconds, --duration and --clients must be positive.")
        hosts = [*settings.ALLOWED_HOSTS, "127.0.0.1", "testserver"]
        # In this process: no debug cursor (it would slow the in-process timings), any test host.
        with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False):
            bench = Bench(self, o)
            bench.prepare()
            if o["in_process"]:
                bench.run(None)
            elif o["base_url"]:
                bench.run(o["base_url"])
            else:
                if connection.vendor != "postgresql":
                    raise CommandError(
                        "The benchmark serves the app with gunicorn on PostgreSQL: set DATABASE_URL=postgres://… "
                        "(or use --in-process)."
                    )
                url = os.environ.get("DATABASE_URL", "")
                server = bm.GunicornServer(workers=o["workers"], database_url=url, base_dir=settings.BASE_DIR)
                self.stdout.write(f"Starting gunicorn ({o['workers']} sync workers) on {server.base_url} …")
                with server:
                    self.stdout.write(f"gunicorn is up (log: {server.log.name}).")
                    bench.run(server.base_url)
                self.stdout.write("gunicorn stopped.")


class Bench:
    def __init__(self, command: Command, options: dict):
        self.cmd, self.o = command, options
        self.out = command.stdout
        self.limits = bm.Limits(options["max_requests"], options["seconds"], options["warmup"])
        self.results: list[bm.Result] = []
        self.goals: list[Goal] = []
        self.notes: list[str] = []
        self.query_counts: dict[tuple, tuple[int, int]] = {}

    # -- setup ------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        o = self.o
        self.company = Company.objects.filter(slug=o["company"]).first()
        if self.company is None:
            raise CommandError(
                f"No company {o['company']!r}: run `manage.py seed_scale --company {o['company']}` first."
            )
        self.owner = User.objects.filter(email=f"owner@{self.company.slug}.test").first()
        if self.owner is None:
            raise CommandError(f"No owner@{self.company.slug}.test: the company was not made by seed_scale.")
        self.small = Company.objects.filter(slug=o["small_company"]).first()
        self.small_owner = self.small and User.objects.filter(email=f"owner@{self.small.slug}.test").first()
        self.demo = Company.objects.filter(slug=o["demo_company"]).first()
        self.demo_owner = self.demo and User.objects.filter(email=f"owner@{self.demo.slug}.test").first()
        self.admin = User.objects.filter(email=ADMIN_EMAIL, is_superuser=True).first()
        self.project = Project.objects.filter(company=self.company).order_by("slug").first()
        self.group = Group.objects.filter(company=self.company).order_by("name").first()
        # Role-change targets: users with a direct Guest/Reporter company role (never the owner).
        targets = (
            RoleBinding.objects.filter(
                company=self.company, user__isnull=False, role__in=[catalogue.GUEST, catalogue.REPORTER]
            )
            .select_related("user")
            .order_by("user_id")[: o["clients"] + 1]
        )
        self.edit_targets = [b.user for b in targets]
        if not self.edit_targets:
            raise CommandError("No user with a Guest or Reporter company role to toggle.")
        identities = (
            User.objects.filter(email__endswith=f"@{self.company.slug}.test").count()
            + Group.objects.filter(company=self.company).count()
            + self.company.service_accounts.count()
        )
        self.out.write(
            f"Company {self.company.slug}: ~{identities} identities, "
            f"{RoleBinding.objects.filter(company=self.company).count()} company bindings; "
            f"database {connection.vendor} {connection.settings_dict.get('NAME')}; "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs."
        )

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
                return bm.InProcessClient(user)
            client = bm.HttpClient(base_url)
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
        self.counter = bm.InProcessClient(self.owner)  # query counts, always in process
        try:
            self.pages()
            self.admin_comparison()
            self.role_change()
            self.permission_check()
            self.mixed_load()
            self.growth()
        finally:
            for client in (self.client, self.admin_client, self.small_client):
                if client is not None:
                    client.close()
        self.section("All scenarios")
        self.out.write(bm.result_table(self.results))
        self.summary()
        for note in self.notes:
            self.out.write(f"note: {note}")
        self.out.write(f"Benchmark finished in {time.perf_counter() - started:.0f} s.")

    def section(self, title: str) -> None:
        self.out.write("")
        self.out.write(self.cmd.style.MIGRATE_HEADING(f"== {title}"))

    def record(self, result: bm.Result, *, path: str | None = None, headers=None, counter=None) -> bm.Result:
        if path is not None and result.queries is None:
            counter = counter or self.counter
            key = (id(counter), path, tuple(sorted((headers or {}).items())))
            if key not in self.query_counts:  # one in-process count per page and user
                self.query_counts[key] = counter.count_queries("GET", path, headers)
            status, result.queries = self.query_counts[key]
            if status != 200:
                result.note += f" (in-process status {status})"
        self.results.append(result)
        self.out.write(bm.result_table([result]).splitlines()[-1])
        return result

    def measure(
        self, name: str, path: str, headers=None, note: str = "", client=None, counter=None
    ) -> bm.Result:
        return self.record(
            bm.run_get(name, client or self.client, path, self.limits, headers, note=note),
            path=path,
            headers=headers,
            counter=counter,
        )

    def available(self, path: str, client=None) -> bool:
        status = (client or self.client).get(path, HX).status
        if status != 200:
            self.notes.append(f"{path} answered {status}: skipped (page not built yet?)")
        return status == 200

    # -- scenarios --------------------------------------------------------------------------------------

    def pages(self) -> None:
        c, q = self.company, self.o["search"]
        self.section(f"Pages of {c.slug} (unloaded, one client)")
        self.out.write(bm.result_table([]).splitlines()[0])
        iam = self.url(c, "iam")
        self.iam_full = self.measure("IAM table · full page", iam)
        self.iam_partial = self.measure("IAM table · partial (HX)", iam, HX)
        self.measure(f"IAM · search q={q} (partial)", self.url(c, "iam", q=q), HX)
        self.measure("IAM · type=group (partial)", self.url(c, "iam", type="group"), HX)
        self.measure("IAM · sort=role (partial)", self.url(c, "iam", sort="role"), HX)
        deep, hops = bm.follow_next(self.client, iam, self.o["deep"], HX)
        self.deep_path = deep
        self.iam_deep = self.measure(f"IAM · deep page {hops + 1} (partial)", deep, HX, note=f"{hops} x Next")
        self.cursor_paths = [bm.follow_next(self.client, iam, n, HX)[0] for n in (1, 2, 3)]

        self.users_full = self.measure("Users · full page", self.url(c, "users"))
        self.measure("Users · partial (HX)", self.url(c, "users"), HX)
        self.measure(f"Users · search q={q} (partial)", self.url(c, "users", q=q), HX)
        self.measure("Users · sort=role (partial)", self.url(c, "users", sort="role"), HX)
        users_deep, hops = bm.follow_next(self.client, self.url(c, "users"), self.o["deep"], HX)
        self.measure(f"Users · deep page {hops + 1} (partial)", users_deep, HX, note=f"{hops} x Next")

        self.optional = {}
        candidates = [("Groups", self.url(c, "groups")), ("Service accounts", self.url(c, "sas"))]
        if self.group:
            candidates.append(("Group detail", f"/companies/{c.slug}/groups/{self.group.pk}/"))
        if self.project:
            candidates.append(("Project IAM", f"/companies/{c.slug}/projects/{self.project.slug}/iam/"))
        for label, path in candidates:
            if not self.available(path):
                self.out.write(f"{label}: {path} is not available yet, skipped")
                continue
            self.optional[label] = path
            self.measure(f"{label} · full page", path)
            self.measure(f"{label} · partial (HX)", path, HX)
            if label != "Group detail":
                self.measure(f"{label} · search q={q} (partial)", f"{path}?q={urllib.parse.quote(q)}", HX)

        # The same table on a company of about ten identities: the query count must not change.
        self.small_counts = {}
        if self.demo and self.demo_owner:
            counter = bm.InProcessClient(self.demo_owner)
            for name, page in (("IAM", "iam"), ("Users", "users")):
                _, n = counter.count_queries("GET", self.url(self.demo, page), HX)
                self.small_counts[name] = n
            self.out.write(
                f"Queries per table partial at {self.demo.slug} (about ten identities): "
                + ", ".join(f"{k} {v}" for k, v in self.small_counts.items())
            )

    def admin_comparison(self) -> None:
        self.section("Ours vs the Django admin (same data, alternating request by request)")
        if self.admin_client is None:
            self.notes.append(f"No super user {ADMIN_EMAIL} (run seed_demo): admin comparison skipped.")
            self.out.write("skipped: no super user")
            return
        q, c = self.o["search"], self.company
        admin_counter = bm.InProcessClient(self.admin)
        pairs = [
            (
                f"identities matching {q}",
                ("ours: IAM partial", self.url(c, "iam", q=q)),
                ("admin: RoleBinding changelist", f"/admin/access/rolebinding/?q={urllib.parse.quote(q)}"),
            ),
            (
                f"users matching {q}",
                ("ours: Users partial", self.url(c, "users", q=q)),
                ("admin: User changelist", f"/admin/identities/user/?q={urllib.parse.quote(q)}"),
            ),
            (
                "first page, no search",
                ("ours: IAM partial", self.url(c, "iam")),
                ("admin: RoleBinding changelist", "/admin/access/rolebinding/"),
            ),
        ]
        self.out.write(bm.result_table([]).splitlines()[0])
        self.ratios = []
        for label, (ours_name, ours_path), (admin_name, admin_path) in pairs:
            ours, theirs = bm.run_alternating(
                [
                    (f"{ours_name} · {label}", self.client, ours_path, HX),
                    (f"{admin_name} · {label}", self.admin_client, admin_path, None),
                ],
                self.limits,
            )
            self.record(ours, path=ours_path, headers=HX)
            self.record(theirs, path=admin_path, counter=admin_counter)
            ratio50, ratio95 = ours.p50 / theirs.p50, ours.p95 / theirs.p95
            self.ratios.append((label, ratio50, ratio95))
            self.out.write(f"  ratio ours/admin ({label}): p50 {ratio50:.2f}, p95 {ratio95:.2f}")

    def role_change(self) -> None:
        self.section("Role change round trip (POST the edit dialog, then refresh the table partial)")
        target = self.edit_targets[0]
        c = self.company
        edit = f"/companies/{c.slug}/iam/user/{target.pk}/edit/"
        refresh = self.url(c, "iam", q=target.email)
        roles = [catalogue.REPORTER, catalogue.GUEST]
        dialog, post, pair = (
            bm.Result("role edit · GET dialog"),
            bm.Result("role edit · POST"),
            bm.Result("role edit · POST + table refresh"),
        )
        self.seen_next = True
        checks = 0
        started = time.perf_counter()
        deadline = started + self.limits.seconds
        for i in range(self.limits.max_requests):
            if time.perf_counter() >= deadline:
                break
            role = roles[i % 2]
            r1 = self.client.get(edit, HX)
            r2 = self.client.request("POST", edit, data={"role": role}, headers=HX)
            r3 = self.client.get(refresh, HX)
            dialog.latencies.append(r1.elapsed)
            post.latencies.append(r2.elapsed)
            pair.latencies.append(r2.elapsed + r3.elapsed)
            dialog.errors += r1.status != 200
            post.errors += r2.status != 204
            pair.errors += r2.status != 204 or r3.status != 200
            seen = f'role-{role}"' in r3.text
            if i % 10 == 0:  # the resolver, in this process, sees the new role at once too
                grants = AccessResolver(target).grants(c)
                seen = seen and any(g.role == role and g.group_name is None for g in grants)
                checks += 1
            self.seen_next = self.seen_next and seen
            pair.size = len(r3.body)
        wall = time.perf_counter() - started
        for result in (dialog, post, pair):
            result.wall = wall
        dialog.queries = self.counter.count_queries("GET", edit, HX)[1]
        post.queries = self.counter.count_queries("POST", edit, HX, {"role": roles[0]})[1]
        pair.queries = post.queries + self.counter.count_queries("GET", refresh, HX)[1]
        pair.note = f"new role visible on the next request: {'yes' if self.seen_next else 'NO'}"
        self.out.write(bm.result_table([]).splitlines()[0])
        for result in (dialog, post, pair):
            self.record(result)
        self.round_trip = pair

    def permission_check(self) -> None:
        self.section(
            "Permission check: AccessResolver(user).can('environment.deploy', env), new resolver each time"
        )
        binding = (
            RoleBinding.objects.filter(environment__project__company=self.company, user__isnull=False)
            .order_by("pk")
            .first()
        )
        if binding is None:
            self.notes.append("No environment binding of a user: permission check skipped.")
            return
        user = binding.user
        env = Environment.objects.select_related("project__company").get(pk=binding.environment_id)
        for _ in range(200):  # warm-up
            AccessResolver(user).can("environment.deploy", env)
        counts = set()
        for _ in range(20):
            with CaptureQueriesContext(connection) as ctx:
                AccessResolver(user).can("environment.deploy", env)
            counts.add(len(ctx.captured_queries))
        result = bm.Result("resolver.can (in process)")
        iterations = self.o["iterations"]
        answer = None
        started = time.perf_counter()
        for _ in range(iterations):
            resolver = AccessResolver(user)
            t0 = time.perf_counter()
            answer = resolver.can("environment.deploy", env)
            result.latencies.append(time.perf_counter() - t0)
        result.wall = time.perf_counter() - started
        result.queries = max(counts)
        result.note = (
            f"{user.email} on {env.project.slug}/{env.env_id}: {answer}; queries per check {sorted(counts)}"
        )
        self.perm_queries_ok = counts == {1}
        self.out.write(bm.result_table([]).splitlines()[0])
        self.perm = self.record(result)
        if self.project:
            path = f"/companies/{self.company.slug}/projects/{self.project.slug}/"
            self.perm_http = self.measure(
                "permission over HTTP: project overview",
                path,
                note="proxy: no JSON check endpoint yet",
            )

    def mixed_load(self) -> None:
        n = self.o["clients"] if self.base_url else 1
        self.section(
            f"Mixed load: {n} concurrent clients for {self.o['duration']:g} s (80% partials, 15% full pages, 5% role edits)"
        )
        c, q = self.company, self.o["search"]
        partials = [
            self.url(c, "iam"),
            self.url(c, "iam", q=q),
            self.url(c, "iam", q="a"),
            self.url(c, "iam", type="user"),
            self.url(c, "iam", type="group"),
            self.url(c, "iam", type="service-account"),
            self.url(c, "iam", sort="role"),
            self.url(c, "users"),
            self.url(c, "users", q=q),
            *self.cursor_paths,
            self.deep_path,
            *self.optional.values(),
        ]
        fulls = [self.url(c, "iam"), self.url(c, "users"), self.url(c, "overview")]
        targets = self.edit_targets[1:] or self.edit_targets
        rngs = [random.Random(self.o["seed"] + i) for i in range(n)]  # noqa: S311
        roles = [catalogue.GUEST, catalogue.REPORTER]

        def pick(index: int, i: int):
            rng = rngs[index]
            r = rng.random()
            if r < 0.80:
                return "partial", "GET", rng.choice(partials), HX, None, 200
            if r < 0.95:
                return "full page", "GET", rng.choice(fulls), None, None, 200
            user = targets[index % len(targets)]
            edit = f"/companies/{c.slug}/iam/user/{user.pk}/edit/"
            return "role edit (POST)", "POST", edit, HX, {"role": roles[i % 2]}, 204

        clients = [self.client.copy() for _ in range(n)]
        report = bm.run_mixed_load(clients, pick, seconds=self.o["duration"])
        for client in clients:
            client.close()
        self.out.write(bm.result_table([]).splitlines()[0])
        for result in report.results.values():
            result.name = f"mixed · {result.name}"
            self.record(result)
        total = bm.Result("mixed · all requests")
        for result in report.results.values():
            total.latencies += result.latencies
            total.errors += result.errors
        total.wall = report.wall
        total.note = f"{n} clients"
        self.record(total)
        self.load = report
        self.out.write(
            f"  total {report.total} requests in {report.wall:.1f} s = {report.rps:.0f} req/s, {report.errors} errors"
        )
        for line in report.exceptions[:5]:
            self.out.write(f"  error: {line}")

    def growth(self) -> None:
        self.growths = []
        if self.small is None or self.small_client is None:
            self.notes.append(
                f"No company {self.o['small_company']!r} (seed_scale --company {self.o['small_company']} --users 1000 "
                "--groups 100 --service-accounts 50 --bindings 5000): cost growth skipped."
            )
            return
        big, small, q = self.company, self.small, self.o["search"]
        small_ids = (
            User.objects.filter(email__endswith=f"@{small.slug}.test").count()
            + Group.objects.filter(company=small).count()
            + small.service_accounts.count()
        )
        self.section(f"Cost growth: {small.slug} (~{small_ids} identities) vs {big.slug}, alternating")
        pages = [
            ("IAM partial", "iam", {}),
            (f"IAM search q={q}", "iam", {"q": q}),
            ("IAM type=group", "iam", {"type": "group"}),
            ("IAM sort=role", "iam", {"sort": "role"}),
            ("Users partial", "users", {}),
            (f"Users search q={q}", "users", {"q": q}),
        ]
        for label, path in self.optional.items():
            if label == "Group detail":
                continue  # different groups, not the same page
            if label == "Project IAM":
                pages.append((label, None, {}))
            else:
                pages.append((label, path.replace(f"/companies/{big.slug}/", "/companies/{c}/"), {}))
        small_counter = bm.InProcessClient(self.small_owner)
        small_project = Project.objects.filter(company=small).order_by("slug").first()
        self.out.write(bm.result_table([]).splitlines()[0])
        for label, page, query in pages:
            if page is None:
                if small_project is None:
                    continue
                big_path = self.optional["Project IAM"]
                small_path = f"/companies/{small.slug}/projects/{small_project.slug}/iam/"
            elif "{c}" in page:
                big_path, small_path = page.format(c=big.slug), page.format(c=small.slug)
            else:
                big_path, small_path = self.url(big, page, **query), self.url(small, page, **query)
            r_small, r_big = bm.run_alternating(
                [
                    (f"growth · {label} · {small.slug}", self.small_client, small_path, HX),
                    (f"growth · {label} · {big.slug}", self.client, big_path, HX),
                ],
                bm.Limits(self.limits.max_requests, min(self.limits.seconds, 2.0), self.limits.warmup),
            )
            self.record(r_small, path=small_path, headers=HX, counter=small_counter)
            self.record(r_big, path=big_path, headers=HX)
            ratio = r_big.p50 / r_small.p50
            self.growths.append((label, ratio, r_big.p95 / r_small.p95, r_small.queries, r_big.queries))
            self.out.write(
                f"  growth {label}: p50 x{ratio:.2f}, p95 x{r_big.p95 / r_small.p95:.2f}, queries {r_small.queries} → {r_big.queries}"
            )

    # -- summary ----------------------------------------------------------------------------------------

    def summary(self) -> None:
        goals = self.goals
        p = self.iam_partial
        goals.append(Goal("IAM table partial at 10k: p95 ≤ 40 ms unloaded", f"{p.p95:.1f} ms", p.p95 <= 40))
        if self.small_counts:
            same = self.small_counts["IAM"] == p.queries
            goals.append(
                Goal(
                    "IAM partial: same queries at 10k as at ~10 identities",
                    f"{p.queries} vs {self.small_counts['IAM']} ({self.demo.slug})",
                    same,
                )
            )
        goals.append(
            Goal("(B5) IAM full page p95 ≤ 50 ms", f"{self.iam_full.p95:.1f} ms", self.iam_full.p95 <= 50)
        )
        table_queries = [
            r.queries
            for r in self.results
            if r.queries is not None and "partial" in r.name and "admin" not in r.name
        ]
        if table_queries:
            goals.append(
                Goal(
                    "(B5) ≤ 5 SQL queries per table partial",
                    f"max {max(table_queries)}",
                    max(table_queries) <= 5,
                )
            )
        deep_ratio = self.iam_deep.p50 / p.p50
        goals.append(Goal("(B5) deep page p50 ≤ 1.5 x first page", f"x{deep_ratio:.2f}", deep_ratio <= 1.5))
        for label, r50, r95 in getattr(self, "ratios", []):
            goals.append(Goal(f"ours/admin ≤ 0.5: {label}", f"p50 {r50:.2f}, p95 {r95:.2f}", r50 <= 0.5))
        for label, g50, g95, q_small, q_big in getattr(self, "growths", []):
            goals.append(
                Goal(
                    f"growth 1k→10k ≤ 1.3x: {label}",
                    f"p50 x{g50:.2f}, p95 x{g95:.2f}, SQL {q_small}→{q_big}",
                    g50 <= 1.3 and q_small == q_big,
                )
            )
        if not getattr(self, "growths", None):
            goals.append(Goal("growth 1k→10k ≤ 1.3x", "not measured (no small company)", None))
        if hasattr(self, "perm"):
            goals.append(
                Goal(
                    "permission check in process: p95 ≤ 1 ms, 1 query",
                    f"p50 {self.perm.p50:.3f} ms, p95 {self.perm.p95:.3f} ms, {self.perm.queries} query",
                    self.perm.p95 <= 1 and self.perm_queries_ok,
                )
            )
        if hasattr(self, "perm_http"):
            goals.append(
                Goal(
                    "(B5) permission over HTTP p50 ≤ 2 ms (proxy: project overview)",
                    f"p50 {self.perm_http.p50:.1f} ms",
                    self.perm_http.p50 <= 2,
                )
            )
        goals.append(
            Goal("role change seen on the next request", "yes" if self.seen_next else "no", self.seen_next)
        )
        rt = self.round_trip
        goals.append(
            Goal("role change round trip p95 ≤ 25 ms", f"{rt.p95:.1f} ms (p50 {rt.p50:.1f})", rt.p95 <= 25)
        )
        load = self.load
        if self.base_url:
            goals.append(
                Goal(
                    f"mixed load ≥ 400 req/s, no errors ({self.o['clients']} clients, {self.o['workers']} workers)",
                    f"{load.rps:.0f} req/s, {load.errors} errors",
                    load.rps >= 400 and load.errors == 0,
                )
            )
        else:
            goals.append(
                Goal("mixed load ≥ 400 req/s, no errors", "not measured over HTTP (--in-process)", None)
            )

        self.section("Summary against the goals of issue 5 (and B5 reference goals)")
        width = max(len(g.name) for g in goals)
        for goal in goals:
            verdict = "-" if goal.ok is None else "PASS" if goal.ok else "FAIL"
            self.out.write(f"{verdict:<5} {goal.name:<{width}}  {goal.measured}")
        passed = sum(1 for g in goals if g.ok)
        failed = sum(1 for g in goals if g.ok is False)
        self.out.write(f"{passed} passed, {failed} failed, {len(goals) - passed - failed} not measured.")
        sys.stdout.flush()
