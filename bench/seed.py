"""A large, deterministic company for measuring speed: `python -m bench seed_scale`.

    python -m bench seed_scale [--company scale] [--preset 10k|100k] [--users 10000] [--groups 1000]
                               [--service-accounts 500] [--projects 50] [--environments 4] [--bindings 50000] [--seed 42] [--replace]
                               [--audit-events 0] [--audit-days 365]

The company sits next to the demo data: when the demo company `acme` is missing, `seed_demo` runs first
(the benchmark compares our pages with the Django admin as the demo super user admin@acme.test). The
company owner is `owner@<company>.test`; every account created here signs in with the demo password.

What it creates (defaults, the 10k preset, in brackets; --preset 100k makes 100,000 users, 10,000 groups,
2,000 service accounts and about 500,000 bindings):
- users `user-<n>@<company>.test` [10,000], each a member of about 5 of the company's groups [1,000];
- service accounts `sa-<n>` [500]; projects `project-<n>` [50] with environments [4 each];
- about [50,000] role bindings spread over the company, project and environment levels, obeying the
  database rules (one role per subject per resource, environment roles Reporter/Maintainer only, no
  Company Owner on a project);
- [no] audit events: --audit-events 1000000 writes the company's hash chain over the last --audit-days
  [365] days (bench/audit.py), with a progress line per 100,000.

The same options and seed give the same data. Everything is written inside one transaction (an error leaves
nothing behind): users, groups and service accounts with bulk_create in batches, memberships and bindings
(nothing points at them) with PostgreSQL's COPY; then the tables are ANALYZEd so the planner knows their
size. Each stage prints its time: the 100k preset takes about two minutes on a 2-core machine.
A company of that name is refused unless --replace, which first deletes it and its `@<company>.test` users.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import color_style
from django.db import connection, transaction
from django.db.models import Q

from bench.audit import EventSeeder, delete_chain
from bench.bulk import write_rows
from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.audit.models import AuditEvent
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User, hash_secret
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, Project

BATCH = 5000
ENV_IDS = ["production", "staging", "development", "qa", "preview", "sandbox", "perf", "demo"]
FIRST = [
    "Ada", "Bruno", "Chiara", "Dario", "Elena", "Fabio", "Giulia", "Hugo", "Irene", "Jonas", "Karin", "Luca",
    "Marta", "Nico", "Olga", "Paolo", "Rosa", "Sven", "Tina", "Ugo", "Vera", "Walter", "Xenia", "Yuri", "Zoe",
]  # fmt: skip
LAST = [
    "Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
    "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri",
]  # fmt: skip
TEAMS = ["platform", "payments", "search", "mobile", "data", "security", "web", "ops", "billing", "growth"]

# Role mixes: (role, weight).
USER_COMPANY_ROLES = [(GUEST, 40), (REPORTER, 30), (DEVELOPER, 20), (MAINTAINER, 8), (PROJECT_ADMIN, 2)]
GROUP_COMPANY_ROLES = [(GUEST, 30), (REPORTER, 35), (DEVELOPER, 25), (MAINTAINER, 10)]
PROJECT_ROLES = [(GUEST, 15), (REPORTER, 30), (DEVELOPER, 35), (MAINTAINER, 15), (PROJECT_ADMIN, 5)]
ENV_ROLES = [(REPORTER, 60), (MAINTAINER, 40)]
# Subjects of the project and environment bindings: (binding field, weight).
RESOURCE_SUBJECTS = [("user", 85), ("group", 10), ("service_account", 5)]
# --preset: the sizes of one company (the 10k preset is the historical default; `bindings` is approximate).
PRESETS = {
    "10k": {"users": 10_000, "groups": 1_000, "service_accounts": 500, "bindings": 50_000},
    "100k": {"users": 100_000, "groups": 10_000, "service_accounts": 2_000, "bindings": 500_000},
}
ANALYZED = (User, Group, GroupMembership, ServiceAccount, RoleBinding, Project, Environment, AuditEvent)


def add_arguments(parser) -> None:
    parser.add_argument("--company", default="scale", help="Company slug (default: scale).")
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="10k",
        help="Sizes of users, groups, service accounts and bindings (default 10k); the options below win.",
    )
    # None: the preset's size (argparse cannot tell a default from the same value typed out).
    for option, size in PRESETS["10k"].items():
        parser.add_argument(f"--{option.replace('_', '-')}", type=int, default=None, help=f"(10k: {size:,})")
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--environments", type=int, default=4, help="Environments per project (≤ 8).")
    parser.add_argument("--groups-per-user", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--replace", action="store_true", help="Delete the company first if it exists.")
    parser.add_argument(
        "--audit-events", type=int, default=0, help="Audit events of the company (default 0)."
    )
    parser.add_argument(
        "--audit-days", type=int, default=365, help="Days the audit events span (default 365)."
    )


def apply_preset(o: dict) -> None:
    """Fill the sizes not given on the command line from --preset."""
    for option, size in PRESETS[o["preset"]].items():
        if o[option] is None:
            o[option] = size


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([r for r, _ in weighted], weights=[w for _, w in weighted])[0]


def scale_users(slug: str):
    """Every account seed_scale made for this company (the owner included)."""
    return User.objects.filter(email__endswith=f"@{slug}.test")


def identity_count(company: Company) -> int:
    """The company's seed_scale accounts, groups and service accounts."""
    return (
        scale_users(company.slug).count()
        + Group.objects.filter(company=company).count()
        + company.service_accounts.count()
    )


def delete_company(slug: str) -> dict[str, int]:
    """Delete a company made by seed_scale, with its `@<slug>.test` users. Returns deleted row counts."""
    users = scale_users(slug)
    company = Company.objects.filter(slug=slug).first()
    counts: dict[str, int] = {}
    where = Q(user__in=users)
    if company is not None:
        where |= Q(company=company) | Q(project__company=company) | Q(environment__project__company=company)
    # Leaf tables first, in single DELETE statements, so the cascade collector has little left to walk.
    counts["bindings"] = RoleBinding.objects.filter(where)._raw_delete(RoleBinding.objects.db)
    membership_where = Q(user__in=users) | Q(group__company=company) if company else Q(user__in=users)
    counts["memberships"] = GroupMembership.objects.filter(membership_where)._raw_delete(
        GroupMembership.objects.db
    )
    if company is not None:
        counts["audit_events"] = delete_chain(company.pk)
        counts["service_accounts"] = ServiceAccount.objects.filter(company=company)._raw_delete(
            ServiceAccount.objects.db
        )
        counts["groups"] = Group.objects.filter(company=company)._raw_delete(Group.objects.db)
        company.delete()
    counts["users"], _ = users.delete()
    return counts


class Stage:
    """Prints one progress line per stage with its duration."""

    def __init__(self, out, name: str):
        self.out, self.name = out, name

    def __enter__(self):
        self.started = time.perf_counter()
        self.out.write(f"  {self.name} …", ending="")
        self.out.flush()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.out.write(f" {self.detail} ({time.perf_counter() - self.started:.1f} s)")
        return False

    detail = "done"


def _check_options(o: dict) -> None:
    for name in (
        "users",
        "groups",
        "service_accounts",
        "projects",
        "environments",
        "bindings",
        "audit_events",
    ):
        if o[name] < 0:
            raise CommandError(f"--{name.replace('_', '-')} must not be negative.")
    if not 1 <= o["environments"] <= len(ENV_IDS):
        raise CommandError(f"--environments must be between 1 and {len(ENV_IDS)}.")
    if o["projects"] < 1:
        raise CommandError("--projects must be at least 1.")
    if o["audit_days"] < 1:
        raise CommandError("--audit-days must be at least 1.")


def seed_scale(o: dict, out) -> None:
    """The `seed_scale` subcommand: o holds its parsed options, out is a Django OutputWrapper."""
    apply_preset(o)
    _check_options(o)
    slug = o["company"]
    started = time.perf_counter()
    exists = Company.objects.filter(slug=slug).exists()
    leftovers = scale_users(slug).exists()
    if (exists or leftovers) and not o["replace"]:
        what = f"company {slug!r}" if exists else f"users @{slug}.test"
        raise CommandError(f"The database already holds {what}; run again with --replace to recreate it.")

    if not Company.objects.filter(slug="acme").exists():
        out.write("Demo data missing: running seed_demo first.")
        call_command("seed_demo", stdout=out)

    out.write(f"Seeding company {slug!r} (seed {o['seed']}):")
    with transaction.atomic():
        if exists or leftovers:
            with Stage(out, "deleting the previous copy") as stage:
                counts = delete_company(slug)
                stage.detail = ", ".join(f"{v} {k}" for k, v in counts.items())
        summary = Seeder(o, out).seed(slug)
    if connection.vendor == "postgresql":
        with Stage(out, "ANALYZE"), connection.cursor() as cursor:
            for model in ANALYZED:
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        if o["audit_events"] and not connection.in_atomic_block:  # (the tests run inside a transaction)
            # What autovacuum does to a table written once: the visibility map lets counts use the indexes.
            with Stage(out, "VACUUM the audit log"), connection.cursor() as cursor:
                cursor.execute(f'VACUUM "{AuditEvent._meta.db_table}"')

    out.write(
        color_style().SUCCESS(f"Company {slug!r} ready in {time.perf_counter() - started:.1f} s: {summary}")
    )
    out.write(
        f"Sign in as owner@{slug}.test (Company Owner of {slug}) with the password {DEMO_PASSWORD}; "
        f"every user-<n>@{slug}.test account uses it too. Its IAM table: /companies/{slug}/iam/"
    )


@dataclass
class Seeder:
    """Creates one company stage by stage; each stage keeps what it made for the next ones."""

    o: dict
    out: object

    def seed(self, slug: str) -> str:
        self.rng = random.Random(self.o["seed"])  # noqa: S311 (test data, not secrets)
        self.admin = User.objects.filter(email="admin@acme.test").first()
        self.company_and_projects(slug)
        self.users(slug)
        self.groups_and_memberships()
        self.service_accounts(slug)
        self.role_bindings()
        audit = ""
        if self.o["audit_events"]:
            audit = ", " + EventSeeder(self, self.o["audit_events"], self.o["audit_days"]).run(self.out)
        return (
            f"{len(self.members) + 1} users, {len(self.groups)} groups, {len(self.accounts)} service accounts, "
            f"{len(self.projects)} projects, {len(self.environments)} environments, "
            f"{len(self.memberships)} memberships, {len(self.bindings)} bindings{audit}"
        )

    def company_and_projects(self, slug: str) -> None:
        with Stage(self.out, "company, projects, environments") as stage:
            self.company = Company.objects.create(slug=slug, name=slug.replace("-", " ").title())
            self.projects = Project.objects.bulk_create(
                Project(company=self.company, slug=f"project-{i:02d}", name=f"Project {i:02d}")
                for i in range(1, self.o["projects"] + 1)
            )
            self.environments = Environment.objects.bulk_create(
                Environment(
                    project=project,
                    env_id=env_id,
                    name=env_id.title(),
                    is_production=env_id == "production",
                    position=position,
                )
                for project in self.projects
                for position, env_id in enumerate(ENV_IDS[: self.o["environments"]])
            )
            stage.detail = f"{len(self.projects)} projects, {len(self.environments)} environments"

    def users(self, slug: str) -> None:
        rng = self.rng
        with Stage(self.out, "users") as stage:
            password = make_password(DEMO_PASSWORD)  # hashed once, shared by every generated account
            users = [User(email=f"owner@{slug}.test", full_name=f"{slug.title()} Owner", password=password)]
            for i in range(1, self.o["users"] + 1):
                users.append(
                    User(
                        email=f"user-{i}@{slug}.test",
                        full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                        password=password,
                    )
                )
            users = User.objects.bulk_create(users, batch_size=BATCH)
            self.owner, self.members = users[0], users[1:]
            stage.detail = f"{len(users)} users"

    def groups_and_memberships(self) -> None:
        with Stage(self.out, "groups and memberships") as stage:
            self.groups = Group.objects.bulk_create(
                (
                    Group(
                        company=self.company, name=f"{TEAMS[i % len(TEAMS)]}-{i:04d}", created_by=self.owner
                    )
                    for i in range(1, self.o["groups"] + 1)
                ),
                batch_size=BATCH,
            )
            self.memberships = []
            if self.groups:
                per_user = min(self.o["groups_per_user"], len(self.groups))
                for user in self.members:
                    k = max(1, min(len(self.groups), per_user + self.rng.randint(-2, 2)))
                    for group in self.rng.sample(self.groups, k):
                        self.memberships.append(GroupMembership(group=group, user=user, added_by=self.owner))
            write_rows(GroupMembership, self.memberships)
            stage.detail = f"{len(self.groups)} groups, {len(self.memberships)} memberships"

    def service_accounts(self, slug: str) -> None:
        seed = self.o["seed"]
        with Stage(self.out, "service accounts") as stage:
            self.accounts = ServiceAccount.objects.bulk_create(
                (
                    ServiceAccount(
                        company=self.company,
                        name=f"sa-{i:04d}",
                        client_id=hashlib.sha256(f"{slug}/{i}/{seed}".encode()).hexdigest()[:32],
                        secret_hash=hash_secret(f"{slug}-sa-{i}-{self.rng.getrandbits(64)}"),
                        created_by=self.owner,
                    )
                    for i in range(1, self.o["service_accounts"] + 1)
                ),
                batch_size=BATCH,
            )
            stage.detail = f"{len(self.accounts)} service accounts"

    def role_bindings(self) -> None:
        """Company bindings first (most users, half the groups, every SA), the rest split 55/45 between
        projects and environments."""
        with Stage(self.out, "role bindings") as stage:
            self.bindings = [
                RoleBinding(user=self.owner, company=self.company, role=COMPANY_OWNER, created_by=self.admin)
            ]
            self.by_level = {"company": 1, "project": 0, "environment": 0}
            self.company_bindings()
            rest = max(0, self.o["bindings"] - len(self.bindings))
            self.resource_bindings("project", self.projects, PROJECT_ROLES, int(rest * 0.55))
            self.resource_bindings("environment", self.environments, ENV_ROLES, rest - int(rest * 0.55))
            write_rows(RoleBinding, self.bindings)
            by_level = self.by_level
            stage.detail = (
                f"{len(self.bindings)} bindings ({by_level['company']} company, {by_level['project']} project, "
                f"{by_level['environment']} environment)"
            )

    def company_bindings(self) -> None:
        rng, members, groups = self.rng, self.members, self.groups
        share = min(self.o["bindings"] - 1, int(0.6 * len(members)) + len(groups) // 2 + len(self.accounts))
        share = max(share, 0)
        candidates = [("user", u, USER_COMPANY_ROLES) for u in rng.sample(members, int(0.6 * len(members)))]
        candidates += [("group", g, GROUP_COMPANY_ROLES) for g in rng.sample(groups, len(groups) // 2)]
        candidates += [("service_account", a, GROUP_COMPANY_ROLES) for a in self.accounts]
        rng.shuffle(candidates)
        for field, subject, roles in candidates[:share]:
            self.bindings.append(
                RoleBinding(
                    **{field: subject}, company=self.company, role=_pick(rng, roles), created_by=self.owner
                )
            )
        self.by_level["company"] += min(share, len(candidates))
        if not groups:  # without groups, company access needs a direct binding for every user
            chosen = {b.user_id for b in self.bindings if b.user_id}
            for user in members:
                if user.pk not in chosen:
                    self.bindings.append(
                        RoleBinding(user=user, company=self.company, role=GUEST, created_by=self.owner)
                    )
                    self.by_level["company"] += 1

    def resource_bindings(self, level: str, resources: list, roles: list, wanted: int) -> None:
        """About `wanted` bindings on projects or environments; (subject, resource) pairs drawn without
        repetition."""
        pools = {"user": self.members, "group": self.groups, "service_account": self.accounts}
        kinds = [(field, pools[field], weight) for field, weight in RESOURCE_SUBJECTS if pools[field]]
        if not kinds:
            return
        seen: set[tuple[str, int, int]] = set()
        attempts = 0
        while self.by_level[level] < wanted and attempts < wanted * 4:
            attempts += 1
            field, pool, _ = self.rng.choices(kinds, weights=[k[2] for k in kinds])[0]
            subject = self.rng.choice(pool)
            resource = self.rng.choice(resources)
            key = (field, subject.pk, resource.pk)
            if key in seen:
                continue
            seen.add(key)
            self.bindings.append(
                RoleBinding(
                    **{field: subject, level: resource}, role=_pick(self.rng, roles), created_by=self.owner
                )
            )
            self.by_level[level] += 1
