"""The benchmark's goals (bench/goals.py): which size goal applies, and how a group of partials is judged."""

from types import SimpleNamespace

import pytest

from bench import goals
from bench.goals import GOALS
from bench.stats import Result


@pytest.mark.parametrize(
    ("users", "size"),
    [(31, "10k"), (10_001, "10k"), (49_999, "10k"), (50_000, "100k"), (100_001, "100k")],
)
def test_the_iam_partial_goal_follows_the_company_size(users, size):
    assert goals.iam_partial_goal(users) == (size, GOALS[f"iam_partial_p95_ms_{size}"])


def test_the_size_goals_are_the_issues():
    assert (GOALS["iam_partial_p95_ms_10k"], GOALS["iam_partial_p95_ms_100k"]) == (20, 30)
    assert GOALS["large_company_users"] == 50_000


@pytest.mark.parametrize(("users", "label"), [(31, "31"), (1_001, "1k"), (10_001, "10k"), (100_001, "100k")])
def test_size_label(users, label):
    assert goals.size_label(users) == label


def result(name: str, ms: float) -> Result:
    return Result(name, latencies=[ms / 1000] * 20)


def test_partials_pass_only_when_every_one_is_within_and_the_worst_is_named():
    limit = GOALS["table_partial_p95_ms"]
    fine = [result("Users · partial (HX)", limit - 1), result("Groups · partial (HX)", limit)]
    goal = goals.partials_goal("other table partials", fine, 100_001)
    assert goal.ok is True
    assert "(100k goal; at 100k users)" in goal.name and "2/2 within" in goal.measured
    slow = result("Project IAM · partial (HX)", limit + 5)
    goal = goals.partials_goal("other table partials", [*fine, slow], 10_001)
    assert goal.ok is False and "at 10k users" in goal.name
    assert goal.measured == f"2/3 within; worst {limit + 5:.1f} ms (Project IAM · partial (HX))"
    assert goals.partials_goal("other table partials", [], 10_001).ok is None


def test_without_a_floor_the_ratio_is_not_measured_and_growth_is_labelled_by_size():
    b = SimpleNamespace(floor_skipped="--base-url", growths=[("IAM partial", 1.1, 1.4, 10, 10)])
    b.small, b.company = SimpleNamespace(slug="scale"), SimpleNamespace(slug="scale100k")
    b.small_users, b.company_users = 10_001, 100_001
    floor_goal, growth_goal = goals._comparison_goals(b)
    assert floor_goal.ok is None and "not measured (--base-url)" in floor_goal.measured
    assert "growth scale→scale100k (10k→100k users)" in growth_goal.name
    assert growth_goal.ok is False  # p95 grew more than allowed, though p50 did not
    b.floor_ratio = (1.9, 2.5)
    assert goals._comparison_goals(b)[0].ok is True  # the floor goal is on p50
