"""Editing project and environment roles: what is saved, what is refused, and what the resolver sees next."""

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.urls import reverse

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.services import ActionRefused, EscalationRefused, check_grantable, project_roles_set
from iam_portal.identities.models import Group, ServiceAccount
from tests.helpers import HX, hx_trigger, row_html


def edit_url(demo, subject, kind="user", project="webshop"):
    return reverse("project_role_edit", args=["acme", project, kind, subject.pk])


def roles_on_webshop(demo, **subject):
    """{"project": role, env_id: role} of one subject on webshop, straight from the database."""
    bindings = RoleBinding.objects.filter(**subject).filter(
        Q(project=demo.webshop) | Q(environment__project=demo.webshop)
    )
    return {
        "project" if project_id else env_id: role
        for role, project_id, env_id in bindings.values_list("role", "project_id", "environment__env_id")
    }


def payload(demo, project_role="", production="", staging="", **extra):
    return {
        "project_role": project_role,
        f"env_{demo.production.pk}": production,
        f"env_{demo.staging.pk}": staging,
        **extra,
    }


# -- the resolver sees the change on the very next request ---------------------------------------------


def test_junior_made_maintainer_on_production_may_deploy_there_until_set_to_no_role(demo, login):
    junior = demo.user("junior1")
    client = login("pm")
    assert not AccessResolver(junior).can("environment.deploy", demo.production)

    response = client.post(
        edit_url(demo, junior),
        payload(demo, DEVELOPER, production=MAINTAINER, staging=MAINTAINER),
        headers=HX,
    )
    assert response.status_code == 204
    triggers = hx_trigger(response)
    assert set(triggers) == {"identitiesChanged", "closeDialog", "showMessage"}
    assert triggers["showMessage"]["level"] == "success"
    assert roles_on_webshop(demo, user=junior) == {
        "project": DEVELOPER,
        "production": MAINTAINER,
        "staging": MAINTAINER,
    }
    assert AccessResolver(junior).can("environment.deploy", demo.production)

    # The table reloads itself: the next request shows the new role in the junior's row.
    table = client.get(reverse("project_iam", args=["acme", "webshop"]), {"q": "junior1"}, headers=HX)
    row = row_html(table.content.decode(), f"project-identity-user-{junior.pk}")
    assert row.count('class="role role-maintainer"') == 2

    response = client.post(edit_url(demo, junior), payload(demo, DEVELOPER, staging=MAINTAINER), headers=HX)
    assert response.status_code == 204
    assert roles_on_webshop(demo, user=junior) == {"project": DEVELOPER, "staging": MAINTAINER}
    assert not AccessResolver(junior).can("environment.deploy", demo.production)
    assert AccessResolver(junior).can("environment.deploy", demo.staging)


def test_explain_command_agrees(demo, login, capsys):
    junior = demo.user("junior1")
    client = login("owner")
    key = "console.environment.deploy.trigger"
    client.post(edit_url(demo, junior), payload(demo, DEVELOPER, production=MAINTAINER), headers=HX)
    call_command("explain", junior.email, "acme/webshop/production", key)
    out = capsys.readouterr().out
    assert out.startswith("yes")
    assert "Maintainer on environment acme/webshop/production (direct)" in out

    client.post(edit_url(demo, junior), payload(demo, DEVELOPER), headers=HX)
    with pytest.raises(SystemExit) as answer:
        call_command("explain", junior.email, "acme/webshop/production", key)
    assert answer.value.code == 1
    assert capsys.readouterr().out.startswith("no")


def test_without_javascript_the_form_redirects_back_to_the_table(demo, login):
    client = login("pm")
    designer = demo.user("designer1")
    response = client.post(edit_url(demo, designer), payload(demo, MAINTAINER))
    assert response.status_code == 302
    assert response.url == reverse("project_iam", args=["acme", "webshop"])
    assert roles_on_webshop(demo, user=designer) == {"project": MAINTAINER}
    page = client.get(response.url)
    assert "were saved" in page.content.decode()


def test_full_page_dialog_without_javascript(demo, login):
    response = login("pm").get(edit_url(demo, demo.user("designer1")))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and 'method="post"' in body and "Edit project roles" in body


def test_removing_roles_is_choosing_none(demo, login):
    senior = demo.user("senior")
    response = login("pm").post(edit_url(demo, senior), payload(demo), headers=HX)
    assert response.status_code == 204
    assert roles_on_webshop(demo, user=senior) == {}
    assert not AccessResolver(senior).can("project.view", demo.webshop)


def test_groups_and_service_accounts_get_project_roles_too(demo, login):
    client = login("pm")
    assert (
        client.post(
            edit_url(demo, demo.developers, "group"), payload(demo, production=REPORTER), headers=HX
        ).status_code
        == 204
    )
    assert (
        client.post(
            edit_url(demo, demo.reader, "service-account"), payload(demo, GUEST), headers=HX
        ).status_code
        == 204
    )
    assert roles_on_webshop(demo, group=demo.developers) == {"production": REPORTER}
    assert roles_on_webshop(demo, service_account=demo.reader) == {"project": GUEST}


# -- refusals change nothing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("project_role", COMPANY_OWNER),
        ("project_role", "root"),
        ("production", DEVELOPER),
        ("production", GUEST),
        ("production", PROJECT_ADMIN),
        ("staging", COMPANY_OWNER),
    ],
)
def test_roles_that_do_not_fit_the_level_are_form_errors(demo, login, field, value):
    junior = demo.user("junior1")
    before = roles_on_webshop(demo, user=junior)
    values = {"project_role": DEVELOPER, "production": MAINTAINER, "staging": MAINTAINER, field: value}
    response = login("owner").post(edit_url(demo, junior), payload(demo, **values), headers=HX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert roles_on_webshop(demo, user=junior) == before


def test_project_admin_cannot_touch_company_roles(demo, login):
    designer = demo.user("designer1")
    client = login("pm")
    response = client.post(
        edit_url(demo, designer),
        payload(demo, REPORTER, company_role=COMPANY_OWNER, role=COMPANY_OWNER),
        headers=HX,
    )
    assert response.status_code == 204
    assert RoleBinding.objects.get(user=designer, company=demo.acme).role == GUEST
    # Nor any company-level page or the "Add" shortcuts that create company roles.
    assert client.get(reverse("company_iam", args=["acme"])).status_code == 403
    assert client.get(reverse("company_role_edit", args=["acme", "user", designer.pk])).status_code == 403
    assert client.get(reverse("project_user_add", args=["acme", "webshop"])).status_code == 403
    assert client.get(reverse("project_service_account_add", args=["acme", "webshop"])).status_code == 403


def test_project_admin_grants_up_to_project_administrator_only(demo, login):
    junior = demo.user("junior1")
    client = login("pm")
    assert client.post(edit_url(demo, junior), payload(demo, PROJECT_ADMIN), headers=HX).status_code == 204
    assert roles_on_webshop(demo, user=junior) == {"project": PROJECT_ADMIN}
    response = client.post(edit_url(demo, junior), payload(demo, COMPANY_OWNER), headers=HX)
    assert response.status_code == 200
    assert roles_on_webshop(demo, user=junior) == {"project": PROJECT_ADMIN}


def test_project_admin_of_webshop_cannot_edit_payments(demo, login):
    """pm is Guest on the company: payments does not exist for them."""
    response = login("pm").post(edit_url(demo, demo.user("designer1"), project="payments"), {}, headers=HX)
    assert response.status_code == 404


def test_service_refuses_escalation_and_wrong_levels(demo):
    pm, junior = demo.user("pm"), demo.user("junior1")
    before = roles_on_webshop(demo, user=junior)
    with pytest.raises(ActionRefused):
        project_roles_set(
            actor=pm, project=demo.webshop, subject=junior, project_role=COMPANY_OWNER, environment_roles={}
        )
    with pytest.raises(ActionRefused):
        project_roles_set(
            actor=pm,
            project=demo.webshop,
            subject=junior,
            project_role=REPORTER,
            environment_roles={demo.production: MAINTAINER, demo.staging: DEVELOPER},
        )
    assert roles_on_webshop(demo, user=junior) == before  # the first change of the call was rolled back


def test_escalation_guard_with_a_lower_actor(demo, persona):
    """The guard itself: an actor grants only up to the role they hold on the resource."""
    designer = persona("project", REPORTER)
    with pytest.raises(EscalationRefused):
        check_grantable(AccessResolver(designer), demo.production, MAINTAINER)


# -- ids from elsewhere ------------------------------------------------------------------------------


def test_environment_of_another_project_is_a_form_error(demo, login):
    junior = demo.user("junior1")
    before = roles_on_webshop(demo, user=junior)
    payments_production = demo.payments.environments.get(env_id="production")
    data = payload(demo, MAINTAINER, production=MAINTAINER, **{f"env_{payments_production.pk}": MAINTAINER})
    response = login("owner").post(edit_url(demo, junior), data, headers=HX)
    assert response.status_code == 200
    assert "not part of this project" in response.content.decode()
    assert roles_on_webshop(demo, user=junior) == before
    assert not RoleBinding.objects.filter(user=junior, environment=payments_production).exists()


@pytest.mark.parametrize("kind", ["user", "group", "service-account"])
def test_identities_of_another_company_are_404(demo, login, kind):
    globex = demo.globex
    if kind == "user":
        foreign = demo.user("owner@globex.test")
    elif kind == "group":
        foreign = Group.objects.create(company=globex, name="Globex team")
    else:
        foreign = ServiceAccount.objects.create(company=globex, name="globex-bot")
    client = login("owner")
    url = edit_url(demo, foreign, kind)
    assert client.get(url, headers=HX).status_code == 404
    assert client.post(url, payload(demo, MAINTAINER), headers=HX).status_code == 404
    assert (
        not RoleBinding.objects.filter(project=demo.webshop, role=MAINTAINER)
        .exclude(user=demo.user("senior"))
        .exists()
    )


def test_unknown_kind_and_users_without_company_access_are_404(demo, login, newcomer):
    client = login("owner")
    assert client.get(edit_url(demo, demo.user("pm"), "robot")).status_code == 404
    assert client.get(edit_url(demo, newcomer)).status_code == 404


# -- the dialog shows what is inherited ----------------------------------------------------------------


def test_dialog_shows_inherited_company_roles_and_their_meaning(demo, login):
    body = login("pm").get(edit_url(demo, demo.user("junior1")), headers=HX).content.decode()
    assert "Guest on company Acme (direct)" in body  # names in sentences, not ids
    assert "Developer on company Acme (via group &quot;Acme Developers&quot;)" in body
    assert "commit configuration changes" in body  # what Developer on the company means on the project
    assert "<html" not in body
    # The selects start from the current own roles.
    assert '<option value="developer" selected>' in body
    assert '<option value="maintainer" selected>' in body


def test_dialog_says_when_nothing_is_inherited(demo, login):
    body = login("owner").get(edit_url(demo, demo.user("designer1")), headers=HX).content.decode()
    assert "Guest on company Acme (direct)" in body  # names in sentences, not ids
    assert "nothing. Without a role below" in body


def test_an_environment_field_left_out_of_the_post_keeps_that_environments_role(demo, login):
    """A dialog opened before an environment existed sends no field for it: its roles stay as they are."""
    junior = demo.user("junior1")
    RoleBinding.objects.update_or_create(user=junior, environment=demo.staging, defaults={"role": MAINTAINER})
    data = payload(demo, DEVELOPER, production=REPORTER)
    del data[f"env_{demo.staging.pk}"]

    response = login("pm").post(edit_url(demo, junior), data, headers=HX)

    assert response.status_code == 204
    assert roles_on_webshop(demo, user=junior) == {
        "project": DEVELOPER,
        "production": REPORTER,
        "staging": MAINTAINER,
    }
