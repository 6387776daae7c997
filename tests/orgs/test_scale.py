"""Smoke tests of `python -m bench seed_scale` and of the benchmark's code paths, on tiny data and
without gunicorn.

Nothing here is timed: speed is measured by `python -m bench run`, never by the test suite.
"""

import io
import re

import pytest
from django.core.management import CommandError
from django.db.models import Count, Q

from bench import clients, seed, stats
from bench.__main__ import build_parser, dispatch
from iam_portal.access.catalogue import COMPANY_OWNER, ROLES_BY_LEVEL, Level
from iam_portal.access.models import RoleBinding
from iam_portal.access.subjects import company_users
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, Project
from tests.helpers import bench, bench_in_process, seed_scale


def snapshot(slug):
    """What seed_scale made, in a form that does not depend on database ids."""
    bindings = RoleBinding.objects.filter(
        Q(company__slug=slug) | Q(project__company__slug=slug) | Q(environment__project__company__slug=slug)
    )
    return sorted(
        (
            b.role,
            (b.user and b.user.email) or (b.group and b.group.name) or b.service_account.name,
            str(b.resource),
        )
        for b in bindings.select_related(
            "user", "group", "service_account", "company", "project", "environment"
        )
    ), sorted(
        GroupMembership.objects.filter(group__company__slug=slug).values_list("user__email", "group__name")
    )


@pytest.mark.django_db
def test_seed_scale_tiny_counts_and_rules():
    output = seed_scale()
    company = Company.objects.get(slug="tiny")
    assert Company.objects.filter(slug="acme").exists(), "the demo data is created first when missing"
    assert "owner@tiny.test" in output and "company, projects, environments" in output

    assert User.objects.filter(email__endswith="@tiny.test").count() == 31  # 30 users + the owner
    assert Group.objects.filter(company=company).count() == 5
    assert ServiceAccount.objects.filter(company=company).count() == 3
    assert Project.objects.filter(company=company).count() == 2
    assert Environment.objects.filter(project__company=company).count() == 4

    bindings = RoleBinding.objects.filter(
        Q(company=company) | Q(project__company=company) | Q(environment__project__company=company)
    )
    assert 100 <= bindings.count() <= 120
    assert bindings.filter(company__isnull=False).exists()
    assert bindings.filter(project__isnull=False).exists()
    assert bindings.filter(environment__isnull=False).exists()
    # The level rules (the database enforces them too; this checks the generator chose well).
    assert not bindings.filter(environment__isnull=False).exclude(role__in=ROLES_BY_LEVEL[Level.ENVIRONMENT])
    assert not bindings.filter(project__isnull=False).exclude(role__in=ROLES_BY_LEVEL[Level.PROJECT])
    # One role per subject per resource.
    for subject in ("user", "group", "service_account"):
        for resource in ("company", "project", "environment"):
            dupes = (
                bindings.filter(**{f"{subject}__isnull": False, f"{resource}__isnull": False})
                .values(subject, resource)
                .annotate(n=Count("pk"))
                .filter(n__gt=1)
            )
            assert not dupes.exists()

    # The owner can sign in and owns the company; every user has company access.
    owner = User.objects.get(email="owner@tiny.test")
    assert owner.check_password(DEMO_PASSWORD)
    assert bindings.get(user=owner, company=company).role == COMPANY_OWNER
    assert company_users(company).count() == 31
    # Group memberships: about five per user, never more than there are groups.
    per_user = GroupMembership.objects.filter(group__company=company).values("user").annotate(n=Count("pk"))
    assert all(1 <= row["n"] <= 5 for row in per_user)


@pytest.mark.django_db
def test_seed_scale_refuses_an_existing_company_and_replaces_deterministically():
    seed_scale()
    first = snapshot("tiny")
    with pytest.raises(CommandError, match="--replace"):
        seed_scale()
    assert snapshot("tiny") == first  # the refusal changed nothing

    output = seed_scale("tiny", "--replace")
    assert "deleting the previous copy" in output
    assert snapshot("tiny") == first  # same seed, same data
    assert User.objects.filter(email__endswith="@tiny.test").count() == 31

    seed_scale("tiny", "--replace", "--seed", "7")
    assert snapshot("tiny") != first


@pytest.mark.parametrize(
    ("argv", "sizes"),
    [
        ([], (10_000, 1_000, 500, 50_000)),
        (["--preset", "10k"], (10_000, 1_000, 500, 50_000)),
        (["--preset", "100k"], (100_000, 10_000, 2_000, 500_000)),
        (["--preset", "100k", "--users", "30", "--bindings", "0"], (30, 10_000, 2_000, 0)),
    ],
)
def test_seed_scale_presets(argv, sizes):
    """--preset picks the sizes; a size typed on the command line wins over it."""
    options = vars(build_parser().parse_args(["seed_scale", *argv]))
    seed.apply_preset(options)
    assert tuple(options[name] for name in ("users", "groups", "service_accounts", "bindings")) == sizes


@pytest.mark.django_db
def test_seed_scale_100k_preset_at_a_tiny_size_prints_each_stage_and_its_time():
    output = seed_scale("tiny", "--preset", "100k")  # the tiny sizes given override every size of the preset
    assert User.objects.filter(email__endswith="@tiny.test").count() == 31
    assert Group.objects.filter(company__slug="tiny").count() == 5
    for stage in ("users", "groups and memberships", "service accounts", "role bindings"):
        assert re.search(rf"^  {stage} … .* \(\d+\.\d s\)$", output, re.M), stage
    # Memberships and bindings go through COPY on PostgreSQL: every column lands in its place.
    owner = User.objects.get(email="owner@tiny.test")
    memberships = GroupMembership.objects.filter(group__company__slug="tiny")
    assert (
        memberships.count() == memberships.filter(added_by=owner, user__email__endswith="@tiny.test").count()
    )
    project_bindings = RoleBinding.objects.filter(project__company__slug="tiny")
    assert project_bindings.exists()
    assert (
        project_bindings.count()
        == project_bindings.filter(created_by=owner, role__in=ROLES_BY_LEVEL[Level.PROJECT]).count()
    )


def test_statistics():
    assert stats.percentile([], 50) != stats.percentile([], 50)  # NaN
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert stats.percentile(values, 50) == 0.050
    assert stats.percentile(values, 95) == 0.095
    assert stats.percentile(values, 99) == 0.099
    assert stats.percentile(values, 100) == 0.100
    result = stats.Result("x", latencies=values, wall=2.0)
    assert result.count == 100 and result.rps == 50
    assert round(result.p95, 6) == 95.0
    assert "x" in stats.result_table([result])


def test_http_client_refuses_anything_but_loopback():
    with pytest.raises(ValueError):
        clients.HttpClient("http://example.com:8000")
    with pytest.raises(ValueError):
        clients.HttpClient("https://127.0.0.1:8000")
    assert clients.HttpClient("http://127.0.0.1:8000").port == 8000


@pytest.mark.django_db
def test_benchmark_in_process_on_tiny_data():
    seed_scale("tiny")
    seed_scale("tiny1k", "--users", "10")  # a smaller company for the cost-growth section
    text = bench_in_process("tiny1k")
    for section in (
        "IAM table · partial (HX)",
        "IAM · deep page",
        "admin: RoleBinding changelist",
        "admin: User changelist",
        "floor · IAM partial rows",
        "ratio ours/floor",
        "role edit · POST + table refresh",
        "preview · company role of one user",
        "preview · role of a group",
        "access page · user",
        "access page · group",
        "resolver.can (in process)",
        "mixed · all requests",
        "growth · IAM partial · tiny1k",
        "Summary against the goals",
    ):
        assert section in text, section
    assert "PASS  role change seen on the next request" in text
    # In process the floor view is served beside the product's URLs, so its goal is measured too.
    assert re.search(r"^(PASS|FAIL)  ours/floor p50 ≤ 2: IAM partial", text, re.M)
    assert re.search(r"^(PASS|FAIL)  IAM table partial p95 ≤ 20 ms \(10k goal: tiny has 31 users", text, re.M)
    assert "growth tiny1k→tiny (11→31 users)" in text
    assert "FAIL  permission check" not in text or "1 query" in text
    assert "errors=" not in text  # every request answered with the expected status


@pytest.mark.django_db
def test_benchmark_needs_the_company():
    with pytest.raises(CommandError, match="seed_scale"):
        dispatch(["run", "--in-process", "--company", "nope"], stdout=io.StringIO())


@pytest.mark.django_db
def test_benchmark_runs_only_the_scenarios_asked_for():
    seed_scale("tiny")
    options = "--in-process --company tiny --small-company none --max-requests 1 --seconds 0.2 --warmup 0"
    text = bench("run", *options.split(), "--only", "preview")
    assert "preview · role of a group" in text and "access page · user" in text
    assert "IAM table · partial (HX)" not in text
    assert "-     table goals" in text and "not run (--only)" in text
    assert "PASS  what-if preview" in text or "FAIL  what-if preview" in text
    assert "errors=" not in text
    with pytest.raises(CommandError, match="no scenario nope"):
        bench("run", *options.split(), "--only", "nope")
