"""The admin writes bindings, memberships and groups through the services (issue 9 #2): the company-access
rule and its cascade, the last-owner and escalation guards and the audit events apply there as in the portal."""

from django.contrib.messages import get_messages

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.audit.models import Action, AuditEvent, Outcome, Source
from iam_portal.identities.models import Group, GroupMembership, User
from tests.admin.test_bindings import inline_errors
from tests.helpers import add_inline_row, admin_url, form_data, inline_row, snapshot


def events(*actions):
    return list(
        AuditEvent.objects.filter(action__in=actions)
        .order_by("id")
        .values_list("action", "resource_path", "subject_name", "source")
    )


def test_a_binding_on_a_company_the_user_cannot_reach_is_a_form_error(admin_client, demo):
    before = snapshot()
    data = {"user": demo.user("junior1").pk, "project": demo.research.pk, "role": REPORTER}
    response = admin_client.post(admin_url(RoleBinding, "add"), data)
    assert response.status_code == 200
    assert "Give them a company role in Globex" in response.content.decode()
    assert snapshot() == before


def test_a_user_inline_may_grant_the_company_role_and_a_project_role_in_one_save(admin_client, demo):
    junior = demo.user("junior1")
    url = admin_url(User, "change", junior.pk)
    data = form_data(admin_client.get(url))
    add_inline_row(data, "role_bindings", role=REPORTER, project=demo.research.pk)
    add_inline_row(data, "role_bindings", role=GUEST, company=demo.globex.pk)
    assert admin_client.post(url, data).status_code == 302
    assert set(RoleBinding.objects.filter(user=junior, company=demo.globex).values_list("role")) == {(GUEST,)}
    assert RoleBinding.objects.get(user=junior, project=demo.research).role == REPORTER
    assert events(Action.ROLE_GRANTED) == [
        (Action.ROLE_GRANTED, "globex", "Jun One", Source.ADMIN),
        (Action.ROLE_GRANTED, "globex/research", "Jun One", Source.ADMIN),
    ]


def test_a_user_inline_may_join_a_group_and_get_a_project_role_in_one_save(admin_client, demo):
    team = Group.objects.create(company=demo.globex, name="Globex Team")
    junior = demo.user("junior1")
    url = admin_url(User, "change", junior.pk)
    data = form_data(admin_client.get(url))
    add_inline_row(data, "role_bindings", role=REPORTER, project=demo.research.pk)
    add_inline_row(data, "memberships", group=team.pk)
    assert admin_client.post(url, data).status_code == 302
    assert GroupMembership.objects.filter(user=junior, group=team).exists()
    assert RoleBinding.objects.get(user=junior, project=demo.research).role == REPORTER


def test_a_user_inline_without_the_company_role_is_refused(admin_client, demo):
    junior = demo.user("junior1")
    url = admin_url(User, "change", junior.pk)
    data = add_inline_row(
        form_data(admin_client.get(url)), "role_bindings", role=REPORTER, project=demo.research.pk
    )
    before = snapshot()
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Give them a company role in Globex" in inline_errors(response)
    assert snapshot() == before


def test_removing_a_membership_in_the_admin_takes_the_roles_that_need_it(admin_client, demo):
    junior = demo.user("junior1")
    RoleBinding.objects.filter(user=junior, company=demo.acme).delete()
    membership = GroupMembership.objects.get(user=junior, group=demo.developers)
    response = admin_client.post(admin_url(GroupMembership, "delete", membership.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not RoleBinding.objects.filter(user=junior).exists()
    assert events(Action.MEMBER_REMOVED, Action.ROLE_REMOVED) == [
        (Action.MEMBER_REMOVED, "acme", "Jun One", Source.ADMIN),
        (Action.ROLE_REMOVED, "acme/webshop", "Jun One", Source.ADMIN),
        (Action.ROLE_REMOVED, "acme/webshop/staging", "Jun One", Source.ADMIN),
    ]


def test_removing_the_company_role_in_a_user_inline_takes_the_project_roles(admin_client, demo):
    designer = demo.user("designer1")
    url = admin_url(User, "change", designer.pk)
    data = form_data(admin_client.get(url))
    company_row = inline_row(data, "company", demo.acme)
    data[f"{company_row}-DELETE"] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert not RoleBinding.objects.filter(user=designer).exists()


def test_deleting_a_group_in_the_admin_goes_through_the_service(admin_client, demo):
    junior2 = demo.user("junior2")
    RoleBinding.objects.filter(user=junior2, company=demo.acme).delete()
    response = admin_client.post(admin_url(Group, "delete", demo.developers.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Group.objects.filter(name="Acme Developers").exists()
    assert not RoleBinding.objects.filter(user=junior2).exists()
    assert events(Action.GROUP_DELETED)[0][1:] == ("acme", "Acme Developers", Source.ADMIN)


def test_the_last_owner_cannot_be_removed_in_the_admin(admin_client, demo):
    owner_binding = RoleBinding.objects.get(user=demo.user("owner"), company=demo.acme, role=COMPANY_OWNER)
    before = snapshot()
    url = admin_url(RoleBinding, "delete", owner_binding.pk)
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == url
    assert snapshot() == before
    assert any("must keep at least one Company Owner" in str(m) for m in get_messages(response.wsgi_request))
    refused = AuditEvent.objects.get(outcome=Outcome.REFUSED)
    assert (refused.action, refused.source, refused.subject_name) == (
        Action.ROLE_CHANGED,
        Source.ADMIN,
        "Olivia Owner",
    )


def test_bulk_delete_is_all_or_nothing(admin_client, demo):
    bindings = RoleBinding.objects.filter(company=demo.acme, role__in=[COMPANY_OWNER, MAINTAINER])
    before = snapshot()
    response = admin_client.post(
        admin_url(RoleBinding),
        {"action": "delete_selected", "_selected_action": [b.pk for b in bindings], "post": "yes"},
    )
    assert response.status_code == 302
    assert snapshot() == before


def test_creating_and_renaming_a_group_in_the_admin_goes_through_the_services(admin_client, demo):
    data = {
        "company": demo.acme.pk,
        "name": "Night  Shift",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data |= {
        "role_bindings-TOTAL_FORMS": "1",
        "role_bindings-INITIAL_FORMS": "0",
        "role_bindings-0-role": DEVELOPER,
    }
    data["role_bindings-0-company"] = demo.acme.pk
    assert admin_client.post(admin_url(Group, "add"), data).status_code == 302
    group = Group.objects.get(company=demo.acme, name="Night Shift")
    assert RoleBinding.objects.get(group=group).role == DEVELOPER
    assert [e[0] for e in events(Action.GROUP_CREATED, Action.ROLE_GRANTED)] == [
        Action.GROUP_CREATED,
        Action.ROLE_GRANTED,
    ]

    url = admin_url(Group, "change", group.pk)
    data = form_data(admin_client.get(url)) | {"name": "Day Shift"}
    assert admin_client.post(url, data).status_code == 302
    assert events(Action.GROUP_RENAMED)[0][1:] == ("acme", "Day Shift", Source.ADMIN)
