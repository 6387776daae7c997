"""Access the owner cannot see (issue 9 #2): every role in a company belongs to someone its pages list.

A user gets a project or environment role only with access to its company (a company role or one of its
groups), and keeps it only as long as that access lasts: the change that takes away their last way in takes
their remaining project and environment roles too, in the same transaction, each on record."""

import pytest
from django.urls import reverse

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding, binding_problem
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import ActionRefused, company_role_set, project_roles_set
from iam_portal.audit.models import Action, AuditEvent
from iam_portal.identities import services
from tests.helpers import HX, bind, changes_nothing


def roles_of(user):
    return sorted((b.role, b.resource.path) for b in RoleBinding.objects.filter(user=user))


def removal_events(user):
    return sorted(
        (e.resource_path, e.before["role"])
        for e in AuditEvent.objects.filter(
            action=Action.ROLE_REMOVED, subject_kind="user", subject_id=user.pk
        )
    )


# -- refused: a role in a company the user has no access to --------------------------------------------


@pytest.mark.parametrize("where", ["research", "development"])
def test_a_role_on_another_companys_project_or_environment_is_refused(demo, where):
    junior = demo.user("junior1")
    resource = demo.research if where == "research" else demo.research.environments.get()
    problem = binding_problem(subject=junior, resource=resource, role=REPORTER)
    assert problem.field == "subject"
    assert "Give them a company role in Globex" in problem.message
    with changes_nothing(ActionRefused, "Give them a company role in Globex"):
        project_roles_set(
            actor=SYSTEM,
            project=demo.research,
            subject=junior,
            project_role=REPORTER if where == "research" else None,
            environment_roles={} if where == "research" else {resource: REPORTER},
        )


def test_access_through_a_group_or_a_company_role_allows_it(demo, newcomer):
    globex_team = services.group_create(
        actor=SYSTEM, company=demo.globex, name="Globex Team", role=GUEST, member_emails=[]
    )
    assert binding_problem(subject=newcomer, resource=demo.research, role=REPORTER) is not None
    services.group_members_add(actor=SYSTEM, group=globex_team, emails=[newcomer.email])
    assert binding_problem(subject=newcomer, resource=demo.research, role=REPORTER) is None
    project_roles_set(
        actor=SYSTEM, project=demo.research, subject=newcomer, project_role=REPORTER, environment_roles={}
    )
    assert roles_of(newcomer) == [(REPORTER, "globex/research")]


def test_a_form_granting_company_access_in_the_same_save_may_say_so(demo, newcomer):
    assert (
        binding_problem(subject=newcomer, resource=demo.research, role=REPORTER, company_access=True) is None
    )


# -- kept: access lost takes the remaining roles along ------------------------------------------------


def test_removing_the_last_company_role_removes_project_and_environment_roles(demo):
    designer = demo.user("designer1")
    bind(designer, MAINTAINER, demo.production)
    company_role_set(actor=SYSTEM, company=demo.acme, subject=designer, role=None)
    assert roles_of(designer) == []
    assert removal_events(designer) == [
        ("acme", GUEST),
        ("acme/webshop", REPORTER),
        ("acme/webshop/production", MAINTAINER),
    ]


def test_removing_the_company_role_keeps_the_rest_while_a_group_gives_access(demo):
    junior = demo.user("junior1")
    company_role_set(actor=SYSTEM, company=demo.acme, subject=junior, role=None)
    assert roles_of(junior) == [(DEVELOPER, "acme/webshop"), (MAINTAINER, "acme/webshop/staging")]


def test_leaving_the_last_group_removes_them(demo, login):
    junior = demo.user("junior1")
    company_role_set(actor=SYSTEM, company=demo.acme, subject=junior, role=None)
    url = reverse("group_remove_member", args=["acme", demo.developers.pk, junior.pk])
    client = login("owner")

    dialog = client.get(url, headers=HX).content.decode()
    assert "deleted with that access" in dialog
    assert "Developer on project <strong>Webshop</strong>" in dialog
    assert "Maintainer on environment <strong>Staging</strong> (Webshop)" in dialog

    assert client.post(url, headers=HX).status_code == 204
    assert roles_of(junior) == []
    assert removal_events(junior) == [
        ("acme", GUEST),
        ("acme/webshop", DEVELOPER),
        ("acme/webshop/staging", MAINTAINER),
    ]
    cascade = AuditEvent.objects.filter(subject_id=junior.pk, resource_path="acme/webshop").get()
    assert cascade.message == "junior1@acme.test no longer has access to Acme."


def test_leaving_a_group_while_keeping_a_company_role_keeps_them(demo, login):
    junior = demo.user("junior1")
    url = reverse("group_remove_member", args=["acme", demo.developers.pk, junior.pk])
    client = login("owner")
    assert "deleted with that access" not in client.get(url, headers=HX).content.decode()
    assert client.post(url, headers=HX).status_code == 204
    assert (DEVELOPER, "acme/webshop") in roles_of(junior)


def test_deleting_a_group_removes_the_roles_of_members_it_was_the_only_way_in_for(demo, login):
    junior1, junior2 = demo.user("junior1"), demo.user("junior2")
    RoleBinding.objects.filter(user=junior2, company=demo.acme).delete()
    url = reverse("group_delete", args=["acme", demo.developers.pk])
    client = login("owner")

    dialog = client.get(url, headers=HX).content.decode()
    assert "deleted with that access" in dialog and "(Jun Two)" in dialog and "(Jun One)" not in dialog

    assert client.post(url, headers=HX).status_code == 200  # HX redirect to the groups page
    assert roles_of(junior2) == []
    assert removal_events(junior2) == [("acme/webshop", DEVELOPER), ("acme/webshop/staging", MAINTAINER)]
    assert (DEVELOPER, "acme/webshop") in roles_of(junior1)


def test_a_refused_removal_keeps_every_role(demo, owner_only_through_group):
    owner = demo.user("owner")
    bind(owner, MAINTAINER, demo.webshop)
    with changes_nothing(ActionRefused, "must keep at least one Company Owner"):
        services.group_member_remove(actor=SYSTEM, group=owner_only_through_group, user=owner)
