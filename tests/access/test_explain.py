"""`manage.py explain IDENTITY RESOURCE [PERMISSION] [--json]` on the demo data."""

import json
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.models import RoleBinding

DEVELOPERS_PATH = 'Developer on company acme (via group "Acme Developers")'


def explain(*args) -> SimpleNamespace:
    """Run the command; returns its exit code (0 when it returns normally), stdout and stderr."""
    out, err = StringIO(), StringIO()
    try:
        call_command("explain", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return SimpleNamespace(
        code=code, out=out.getvalue(), err=err.getvalue(), lines=out.getvalue().splitlines()
    )


def listing(result) -> dict[str, list[str]]:
    """The full listing parsed back: key → paths."""
    parsed = {}
    for line in result.lines:
        key, tab, paths = line.partition("\t")
        assert tab == "\t", line
        parsed[key] = paths.split("; ")
    return parsed


# -- yes / no ---------------------------------------------------------------------------------------------


def test_yes_with_the_granting_path_and_exit_status_zero(demo):
    result = explain("junior1@acme.test", "acme/webshop/staging", "console.environment.deploy.trigger")
    assert result.code == 0
    assert result.lines == ["yes", "  Maintainer on environment acme/webshop/staging (direct)"]
    assert result.err == ""


def test_no_with_exit_status_one(demo):
    result = explain("junior1@acme.test", "acme/webshop/production", "console.environment.deploy.trigger")
    assert result.code == 1
    assert result.lines == ["no"]
    assert result.err == ""


def test_yes_lists_every_path_that_grants_the_key(demo):
    result = explain("junior1@acme.test", "acme/webshop/staging", "console.company.view")
    assert result.code == 0
    assert result.lines[0] == "yes"
    assert sorted(result.lines[1:]) == sorted([f"  {DEVELOPERS_PATH}", "  Guest on company acme (direct)"])


def test_the_email_is_matched_whatever_the_case(demo):
    result = explain("Junior1@ACME.test", "acme/webshop/staging", "console.environment.deploy.trigger")
    assert result.code == 0
    assert result.lines[0] == "yes"


def test_company_owner_inherits_deploy_on_every_environment(demo):
    result = explain(
        "owner@acme.test", "acme/payments/production", "console.company.project.environment.deploy.trigger"
    )
    assert result.code == 0
    assert result.lines == ["yes", "  Company Owner on company acme (direct)"]


def test_company_owner_has_nothing_in_another_company(demo):
    result = explain("owner@acme.test", "globex/research/development", "console.company.view")
    assert result.code == 1
    assert result.lines == ["no"]


def test_a_revoked_binding_is_answered_no_at_once(demo):
    assert (
        explain("junior1@acme.test", "acme/webshop/staging", "console.environment.deploy.trigger").code == 0
    )
    RoleBinding.objects.filter(user=demo.user("junior1"), environment=demo.staging).delete()
    result = explain("junior1@acme.test", "acme/webshop/staging", "console.environment.deploy.trigger")
    assert result.code == 1
    assert result.lines == ["no"]


def test_a_root_key_is_a_valid_question(demo):
    result = explain("owner@acme.test", "acme", "console.root.company.create")
    assert result.code == 1
    assert result.lines == ["no"]


# -- full listing -----------------------------------------------------------------------------------------


def test_listing_every_key_sorted_with_tabs_and_paths(demo):
    result = explain("junior1@acme.test", "acme/webshop/staging")
    assert result.code == 0
    keys = [line.split("\t")[0] for line in result.lines]
    assert keys == sorted(keys)
    permissions = listing(result)
    assert set(permissions) == (
        catalogue.keys_for("developer", Level.COMPANY)
        | catalogue.keys_for("developer", Level.PROJECT)
        | catalogue.keys_for("maintainer", Level.ENVIRONMENT)
    )
    assert permissions["console.environment.deploy.trigger"] == [
        "Maintainer on environment acme/webshop/staging (direct)"
    ]
    assert permissions["console.project.view"] == ["Developer on project acme/webshop (direct)"]
    assert sorted(permissions["console.company.view"]) == sorted(
        [DEVELOPERS_PATH, "Guest on company acme (direct)"]
    )


def test_listing_paths_are_joined_with_semicolons(demo):
    result = explain("junior1@acme.test", "acme")
    line = next(line for line in result.lines if line.startswith("console.company.view\t"))
    assert line.count("; ") == 1
    assert DEVELOPERS_PATH in line


def test_listing_for_an_identity_without_access_is_empty(demo):
    result = explain("owner@globex.test", "acme/webshop")
    assert result.code == 0
    assert result.out == ""


def test_listing_on_a_company_holds_company_keys_only(demo):
    permissions = listing(explain("designer1@acme.test", "acme"))
    assert set(permissions) == catalogue.keys_for("guest", Level.COMPANY)


# -- --json -----------------------------------------------------------------------------------------------


def test_json_listing_shape(demo):
    result = explain("senior@acme.test", "acme/webshop/production", "--json")
    assert result.code == 0
    payload = json.loads(result.out)
    assert set(payload) == {"identity", "resource", "permissions"}
    assert payload["identity"] == "senior@acme.test"
    assert payload["resource"] == "acme/webshop/production"
    assert payload["permissions"]["console.project.environment.deploy.trigger"] == [
        "Maintainer on project acme/webshop (direct)"
    ]
    assert set(payload["permissions"]) == (
        catalogue.keys_for("guest", Level.COMPANY) | catalogue.keys_for("maintainer", Level.PROJECT)
    )


def test_json_keeps_identity_and_resource_as_given(demo):
    payload = json.loads(explain("SENIOR@acme.test", "acme", "--json").out)
    assert payload["identity"] == "SENIOR@acme.test"
    assert payload["resource"] == "acme"


@pytest.mark.parametrize(
    ("resource", "key", "code", "permissions"),
    [
        (
            "acme/webshop",
            "console.project.users.manage",
            0,
            {"console.project.users.manage": ["Project Administrator on project acme/webshop (direct)"]},
        ),
        ("acme", "console.company.users.manage", 1, {}),
    ],
    ids=["granted", "refused"],
)
def test_json_with_a_permission(demo, resource, key, code, permissions):
    result = explain("pm@acme.test", resource, key, "--json")
    assert result.code == code
    assert json.loads(result.out) == {
        "identity": "pm@acme.test",
        "resource": resource,
        "permissions": permissions,
        "granted": code == 0,
    }


# -- other identities -------------------------------------------------------------------------------------


def test_a_group_as_identity(demo):
    result = explain(
        "group:acme/Acme Developers", "acme/webshop", "console.company.project.configuration.update"
    )
    assert result.code == 0
    assert result.lines[0] == "yes"
    assert len(result.lines) == 2
    assert result.lines[1].startswith("  Developer on company acme")
    permissions = listing(explain("group:acme/Acme Developers", "acme/webshop/production"))
    assert set(permissions) == catalogue.keys_for("developer", Level.COMPANY)


def test_a_group_as_identity_does_not_hold_its_members_bindings(demo):
    result = explain(
        "group:acme/Acme Developers", "acme/webshop/staging", "console.environment.deploy.trigger"
    )
    assert result.code == 1


def test_a_group_name_is_matched_whatever_the_case(demo):
    result = explain("group:acme/acme developers", "acme", "console.company.view")
    assert result.code == 0


def test_a_service_account_by_client_id(demo):
    result = explain(
        "demo-metrics-reader", "acme/webshop/production", "console.company.project.environment.view"
    )
    assert result.code == 0
    assert result.lines == ["yes", "  Reporter on company acme (direct)"]
    refused = explain("demo-metrics-reader", "acme/webshop/production", "console.environment.deploy.trigger")
    assert refused.code == 1
    assert refused.lines == ["no"]


def test_a_jwt_service_account_by_its_generated_client_id(demo):
    result = explain(demo.deployer.client_id, "acme/payments/production")
    permissions = listing(result)
    assert set(permissions) == catalogue.keys_for("maintainer", Level.COMPANY)
    assert permissions["console.company.project.environment.deploy.trigger"] == [
        "Maintainer on company acme (direct)"
    ]


def test_the_super_user_holds_every_key(demo):
    permissions = listing(explain("admin@acme.test", "globex/research/development"))
    assert set(permissions) == catalogue.ALL_KEYS
    assert all(paths == ["Console super user"] for paths in permissions.values())
    result = explain("admin@acme.test", "acme", "console.root.project.delete")
    assert result.code == 0
    assert result.lines == ["yes", "  Console super user"]


def test_an_inactive_user_holds_nothing(demo):
    owner = demo.user("owner")
    owner.is_active = False
    owner.save()
    result = explain("owner@acme.test", "acme", "console.company.view")
    assert result.code == 1
    assert result.lines == ["no"]


# -- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("nobody@acme.test", "acme"), id="unknown-user"),
        pytest.param(("no-such-client-id", "acme"), id="unknown-client-id"),
        pytest.param(("", "acme"), id="empty-identity"),
        pytest.param(("group:acme/Nobody", "acme"), id="unknown-group"),
        pytest.param(("group:globex/Acme Developers", "acme"), id="group-of-another-company"),
        pytest.param(("group:nowhere/Acme Developers", "acme"), id="group-of-unknown-company"),
        pytest.param(("group:acme", "acme"), id="group-without-name"),
        pytest.param(("group:/Acme Developers", "acme"), id="group-without-company"),
        pytest.param(("owner@acme.test", "nowhere"), id="unknown-company"),
        pytest.param(("owner@acme.test", "acme/nothing"), id="unknown-project"),
        pytest.param(("owner@acme.test", "acme/webshop/nothing"), id="unknown-environment"),
        pytest.param(("owner@acme.test", "globex/webshop"), id="project-of-another-company"),
        pytest.param(("owner@acme.test", "acme/payments/staging"), id="environment-of-another-project"),
        pytest.param(("owner@acme.test", "acme/webshop/production/extra"), id="too-deep"),
        pytest.param(("owner@acme.test", "acme//production"), id="empty-segment"),
        pytest.param(("owner@acme.test", "acme/"), id="trailing-slash"),
        pytest.param(("owner@acme.test", "/acme"), id="leading-slash"),
        pytest.param(("owner@acme.test", ""), id="empty-resource"),
        pytest.param(("owner@acme.test", "acme", "console.company.nothing"), id="unknown-key"),
        pytest.param(("owner@acme.test", "acme", "console.root.project delete"), id="spec-typo-key"),
        pytest.param(("owner@acme.test", "acme", "Console.Company.View"), id="wrong-case-key"),
        pytest.param(("owner@acme.test", "acme", "not a key"), id="malformed-key"),
        pytest.param(("owner@acme.test", "acme", "console..view"), id="empty-key-segment"),
        pytest.param(("owner@acme.test", "acme", ""), id="empty-key"),
        pytest.param(("owner@acme.test", "acme", "console.company.nothing", "--json"), id="unknown-key-json"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_status_two(demo, args):
    result = explain(*args)
    assert result.code == 2
    assert result.out == ""
    error_lines = result.err.splitlines()
    assert len(error_lines) == 1
    assert error_lines[0].startswith("error: ")


def test_the_error_names_what_is_wrong(demo):
    assert "nobody@acme.test" in explain("nobody@acme.test", "acme").err
    assert "acme/nothing" in explain("owner@acme.test", "acme/nothing").err
    assert "console.company.nothing" in explain("owner@acme.test", "acme", "console.company.nothing").err


# -- service accounts by name (issue 9 #27) ---------------------------------------------------------------


def test_a_service_account_can_be_named_by_company_and_name(demo):
    by_name = explain("sa:acme/Metrics-Reader", "acme", "console.company.view")
    by_id = explain(demo.reader.client_id, "acme", "console.company.view")
    assert by_name.code == 0
    assert by_name.lines == by_id.lines


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ("sa:acme/nobody", "error: unknown service account 'nobody' in company 'acme'"),
        ("sa:globex/ci-deployer", "error: unknown service account 'ci-deployer' in company 'globex'"),
        ("sa:acme", "error: malformed service account identity 'sa:acme'"),
    ],
)
def test_an_unknown_or_malformed_service_account_name_is_bad_input(demo, identity, message):
    result = explain(identity, "acme")
    assert result.code == 2
    assert result.err.startswith(message)
