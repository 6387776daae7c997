"""Time-limited grants (issue 13): a role holds until a moment, then the role it was raised from holds again
(or none). The resolver reads them at request time, so correctness never waits for a scheduler."""

import datetime
import io
import os
import re
import threading
from types import SimpleNamespace

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from iam_portal.access.admin import binding_write_from_admin
from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.selectors import company_owners
from iam_portal.access.services import (
    ActionRefused,
    LastOwnerRefused,
    binding_end,
    binding_extend,
    company_role_set,
    grants_expire,
    project_roles_set,
    role_set,
)
from iam_portal.audit.models import Action, AuditEvent
from iam_portal.audit.wording import event_sentence
from iam_portal.identities.models import Group, ServiceAccount, User
from tests.helpers import (
    ANONYMOUS,
    HX,
    NO_ACCESS,
    OTHER_COMPANY_OWNER,
    SUPERUSER,
    Persona,
    assert_access_matrix,
    assert_form_refused,
    changes_nothing,
    hx_trigger,
    row_html,
)

FRIDAY = datetime.datetime(2026, 12, 4, 17, 0, tzinfo=datetime.UTC)
BEFORE, AT, AFTER = FRIDAY - datetime.timedelta(hours=1), FRIDAY, FRIDAY + datetime.timedelta(minutes=1)
DEPLOY = "console.project.environment.deploy.trigger"


@pytest.fixture
def raised_group(demo):
    """The seeds' scenario: "Acme Developers" (Developer on Acme) raised to Maintainer on Webshop until Friday."""
    return RoleBinding.objects.create(
        group=demo.developers, project=demo.webshop, role=MAINTAINER, until=FRIDAY, role_after=DEVELOPER
    )


@pytest.mark.parametrize(("moment", "role"), [(BEFORE, MAINTAINER), (AT, DEVELOPER), (AFTER, DEVELOPER)])
def test_a_raised_group_is_back_to_its_role_when_the_grant_ends(demo, raised_group, moment, role):
    junior = demo.user("junior1")
    with time_machine.travel(moment, tick=False):
        access = AccessResolver(junior)
        project_grants = [g for g in access.grants(demo.webshop) if g.level == "project" and g.group_name]
        assert [(g.role, g.group_name) for g in project_grants] == [(role, "Acme Developers")]
        assert ("via group" in " ".join(access.permissions(demo.webshop).get(DEPLOY, []))) == (
            role == MAINTAINER
        )


def test_the_explanation_says_until_when(demo, raised_group):
    with time_machine.travel(BEFORE, tick=False):
        paths = AccessResolver(demo.user("junior1")).permissions(demo.webshop)[DEPLOY]
    assert paths == [
        'Maintainer on project acme/webshop (via group "Acme Developers", until 2026-12-04 17:00 UTC)'
    ]


def test_a_grant_with_nothing_before_it_leaves_nothing(demo):
    senior = demo.user("senior")
    RoleBinding.objects.create(user=senior, environment=demo.production, role=MAINTAINER, until=FRIDAY)
    with time_machine.travel(BEFORE, tick=False):
        assert AccessResolver(senior).can("environment.deploy", demo.production)
        assert demo.production in AccessResolver(senior).visible_environments(demo.webshop)
    with time_machine.travel(AFTER, tick=False):
        assert not [g for g in AccessResolver(senior).grants(demo.production) if g.level == "environment"]


def test_ownership_that_ends_does_not_count_for_the_last_owner_rule(demo):
    senior = demo.user("senior")
    RoleBinding.objects.filter(user=senior, company=demo.acme).update(
        role=COMPANY_OWNER, until=timezone.now() + datetime.timedelta(days=3), role_after=MAINTAINER
    )
    assert AccessResolver(senior).role_on(demo.acme) == COMPANY_OWNER
    assert senior not in company_owners(demo.acme)
    assert demo.user("owner") in company_owners(demo.acme)


# -- services: setting a role until a moment ------------------------------------------------------

NOW = FRIDAY - datetime.timedelta(days=3)


@pytest.fixture
def monday():
    """The clock stands still three days before Friday's deadline."""
    with time_machine.travel(NOW, tick=False):
        yield


def _binding(**lookup) -> tuple:
    b = RoleBinding.objects.get(**lookup)
    return b.role, b.until, b.role_after


def _events(action, **filters) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(action=action, **filters).order_by("id").values_list("before", "after")
    )


def test_raising_a_lasting_role_until_a_moment_keeps_it_to_return_to(demo, monday):
    senior = demo.user("senior")  # Maintainer on Webshop for good
    role_set(
        actor=demo.user("owner"), subject=senior, resource=demo.webshop, role=PROJECT_ADMIN, until=FRIDAY
    )
    assert _binding(user=senior, project=demo.webshop) == (PROJECT_ADMIN, FRIDAY, MAINTAINER)
    assert _events(Action.ROLE_CHANGED, subject_id=senior.pk) == [
        ({"role": MAINTAINER}, {"role": PROJECT_ADMIN, "until": FRIDAY.isoformat(), "then": MAINTAINER})
    ]
    with time_machine.travel(AFTER, tick=False):
        assert AccessResolver(senior).role_on(demo.webshop) == MAINTAINER


def test_a_role_over_none_ends_in_nothing_and_a_second_raise_keeps_the_lasting_role(demo, monday):
    owner, senior = demo.user("owner"), demo.user("senior")
    role_set(actor=owner, subject=senior, resource=demo.production, role=MAINTAINER, until=FRIDAY)
    assert _binding(user=senior, environment=demo.production) == (MAINTAINER, FRIDAY, "")
    assert _events(Action.ROLE_GRANTED, subject_id=senior.pk) == [
        (None, {"role": MAINTAINER, "until": FRIDAY.isoformat()})
    ]
    role_set(actor=owner, subject=senior, resource=demo.webshop, role=PROJECT_ADMIN, until=FRIDAY)
    later = FRIDAY + datetime.timedelta(days=7)
    role_set(actor=owner, subject=senior, resource=demo.webshop, role=DEVELOPER, until=later)
    assert _binding(user=senior, project=demo.webshop) == (DEVELOPER, later, MAINTAINER)


def test_a_role_set_without_until_is_lasting_again(demo, monday, raised_group):
    owner = demo.user("owner")
    role_set(actor=owner, subject=demo.developers, resource=demo.webshop, role=MAINTAINER)
    assert _binding(group=demo.developers, project=demo.webshop) == (MAINTAINER, None, "")


def test_the_lasting_role_given_until_a_moment_ends_then(demo, monday):
    senior = demo.user("senior")
    role_set(actor=demo.user("owner"), subject=senior, resource=demo.webshop, role=MAINTAINER, until=FRIDAY)
    assert _binding(user=senior, project=demo.webshop) == (MAINTAINER, FRIDAY, "")


@pytest.mark.parametrize("until", [NOW, NOW - datetime.timedelta(days=1)])
def test_an_end_that_is_not_in_the_future_is_refused(demo, monday, until):
    with changes_nothing(ActionRefused, match="not in the future"):
        role_set(
            actor=demo.user("owner"),
            subject=demo.user("senior"),
            resource=demo.webshop,
            role=DEVELOPER,
            until=until,
        )


def test_the_last_lasting_owner_may_not_become_an_owner_until_a_moment(demo, monday):
    owner = demo.user("owner")
    with changes_nothing(LastOwnerRefused):
        company_role_set(actor=owner, company=demo.acme, subject=owner, role=COMPANY_OWNER, until=FRIDAY)
    senior = demo.user("senior")
    company_role_set(actor=owner, company=demo.acme, subject=senior, role=COMPANY_OWNER, until=FRIDAY)
    assert _binding(user=senior, company=demo.acme) == (COMPANY_OWNER, FRIDAY, GUEST)
    with changes_nothing(LastOwnerRefused):  # the other owner's ownership ends: still the last one
        company_role_set(actor=owner, company=demo.acme, subject=owner, role=MAINTAINER)


def test_a_project_dialog_save_leaves_the_unchanged_roles_and_their_ends_alone(demo, monday):
    junior = demo.user("junior1")  # Developer on Webshop, Maintainer on staging
    RoleBinding.objects.filter(user=junior, environment=demo.staging).update(until=FRIDAY)
    project_roles_set(
        actor=demo.user("owner"),
        project=demo.webshop,
        subject=junior,
        project_role=MAINTAINER,
        environment_roles={demo.staging: MAINTAINER, demo.production: MAINTAINER},
        until=FRIDAY + datetime.timedelta(days=1),
    )
    saturday = FRIDAY + datetime.timedelta(days=1)
    assert _binding(user=junior, project=demo.webshop) == (MAINTAINER, saturday, DEVELOPER)
    assert _binding(user=junior, environment=demo.production) == (MAINTAINER, saturday, "")
    assert _binding(user=junior, environment=demo.staging) == (MAINTAINER, FRIDAY, "")


# -- Extend and End now ---------------------------------------------------------------------------


def test_extend_moves_the_end_and_says_so(demo, monday, raised_group):
    later = FRIDAY + datetime.timedelta(days=7)
    binding_extend(actor=demo.user("owner"), binding=raised_group, until=later)
    assert _binding(pk=raised_group.pk) == (MAINTAINER, later, DEVELOPER)
    event = AuditEvent.objects.filter(action=Action.ROLE_CHANGED).latest("id")
    assert event.after == {"role": MAINTAINER, "until": later.isoformat(), "then": DEVELOPER}
    assert event_sentence(event) == (
        "Olivia Owner moved the end of the group Acme Developers' Maintainer role on Webshop to 11 Dec 2026, 17:00"
    )


def test_extend_and_end_now_refuse_a_lasting_role(demo, monday):
    lasting = RoleBinding.objects.get(user=demo.user("senior"), project=demo.webshop)
    with changes_nothing(ActionRefused, match="has no end date"):
        binding_extend(actor=demo.user("owner"), binding=lasting, until=FRIDAY)
    with changes_nothing(ActionRefused, match="has no end date"):
        binding_end(actor=demo.user("owner"), binding=lasting)


def test_extend_refuses_a_past_end(demo, monday, raised_group):
    with changes_nothing(ActionRefused, match="not in the future"):
        binding_extend(actor=demo.user("owner"), binding=raised_group, until=NOW)


def test_end_now_returns_to_the_lasting_role(demo, monday, raised_group):
    binding_end(actor=demo.user("owner"), binding=raised_group)
    assert _binding(pk=raised_group.pk) == (DEVELOPER, None, "")
    event = AuditEvent.objects.get(action=Action.ROLE_ENDED)
    assert (event.before, event.after) == (
        {"role": MAINTAINER, "until": FRIDAY.isoformat(), "then": DEVELOPER},
        {"role": DEVELOPER},
    )
    assert event_sentence(event) == "Olivia Owner ended the group Acme Developers' Maintainer role on Webshop"


def test_end_now_of_a_users_only_company_role_takes_their_project_roles_too(demo, monday):
    senior = demo.user("senior")  # Guest on Acme, Maintainer on Webshop
    binding = RoleBinding.objects.get(user=senior, company=demo.acme)
    RoleBinding.objects.filter(pk=binding.pk).update(role=REPORTER, until=FRIDAY)
    binding_end(actor=demo.user("owner"), binding=binding)
    assert not RoleBinding.objects.filter(user=senior).exists()
    assert [e.resource_path for e in AuditEvent.objects.filter(subject_id=senior.pk).order_by("id")] == [
        "acme",
        "acme/webshop",
    ]
    assert AuditEvent.objects.filter(subject_id=senior.pk, action=Action.ROLE_REMOVED).count() == 1


def _time_limited_on_webshop(demo):
    return RoleBinding.objects.create(
        user=demo.user("designer1"), environment=demo.production, role=MAINTAINER, until=FRIDAY
    )


@pytest.mark.parametrize("service", ["extend", "end"])
def test_extend_and_end_now_matrix(demo, persona, monday, service):
    """Those who edit Webshop's roles may extend or end one of its grants; nobody else."""
    binding = _time_limited_on_webshop(demo)

    def call(actor):
        if service == "extend":
            return binding_extend(actor=actor, binding=binding, until=FRIDAY + datetime.timedelta(days=1))
        return binding_end(actor=actor, binding=binding)

    allowed, denied = "allowed", "denied"
    assert_access_matrix(
        persona,
        {
            Persona("company", COMPANY_OWNER): allowed,
            Persona("company", PROJECT_ADMIN): allowed,
            Persona("project", PROJECT_ADMIN): allowed,
            Persona("project", PROJECT_ADMIN, via_group=True): allowed,
            SUPERUSER: allowed,
            Persona("company", MAINTAINER): denied,
            Persona("project", MAINTAINER): denied,
            Persona("environment", MAINTAINER): denied,
            Persona("other-project", PROJECT_ADMIN): denied,
            OTHER_COMPANY_OWNER: denied,
            NO_ACCESS: denied,
        },
        call=call,
    )


# -- expire_grants --------------------------------------------------------------------------------


def test_expire_grants_tidies_ended_grants_once_and_records_them(demo, monday, raised_group):
    senior = demo.user("senior")
    RoleBinding.objects.filter(user=senior, company=demo.acme).update(role=REPORTER, until=FRIDAY)
    lasting = RoleBinding.objects.create(user=demo.user("junior1"), project=demo.payments, role=GUEST)
    running = _time_limited_on_webshop(demo)
    RoleBinding.objects.filter(pk=running.pk).update(until=FRIDAY + datetime.timedelta(days=1))
    out = io.StringIO()
    with time_machine.travel(AFTER, tick=False):
        call_command("expire_grants", "--batch", "1", stdout=out)
        assert out.getvalue() == "2 ended grants tidied.\n"
        call_command("expire_grants", stdout=out)
        assert out.getvalue().endswith("0 ended grants tidied.\n")
    assert _binding(pk=raised_group.pk) == (DEVELOPER, None, "")
    assert not RoleBinding.objects.filter(user=senior).exists()  # the cascade took Webshop too
    assert RoleBinding.objects.filter(pk__in=[lasting.pk, running.pk]).count() == 2
    ended = AuditEvent.objects.filter(action=Action.ROLE_ENDED).order_by("id")
    assert [(e.actor_kind, e.source, e.subject_name, e.resource_path) for e in ended] == [
        ("command", "command", "Sara Senior", "acme"),
        ("command", "command", "Acme Developers", "acme/webshop"),
    ] or [(e.actor_kind, e.source, e.subject_name, e.resource_path) for e in ended] == [
        ("command", "command", "Acme Developers", "acme/webshop"),
        ("command", "command", "Sara Senior", "acme"),
    ]
    assert {event_sentence(e) for e in ended} == {
        "Sara Senior's Reporter role on Acme ended",
        "the group Acme Developers' Maintainer role on Webshop ended",
    }
    cascade = AuditEvent.objects.get(action=Action.ROLE_REMOVED, subject_id=senior.pk)
    assert (cascade.resource_path, cascade.actor_kind) == ("acme/webshop", "command")


def test_expire_grants_before_the_end_changes_nothing(demo, monday, raised_group):
    out = io.StringIO()
    call_command("expire_grants", stdout=out)
    assert out.getvalue() == "0 ended grants tidied.\n"
    assert _binding(pk=raised_group.pk) == (MAINTAINER, FRIDAY, DEVELOPER)
    assert not AuditEvent.objects.filter(action=Action.ROLE_ENDED).exists()


def test_expire_grants_refuses_a_bad_batch(db):
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("expire_grants", "--batch", "0", stderr=err)
    assert (exit_.value.code, err.getvalue()) == (2, "error: --batch takes a number from 1 to 10000\n")


def test_only_the_command_line_and_super_users_tidy(demo, persona):
    assert_access_matrix(
        persona,
        {SUPERUSER: "allowed", Persona("company", COMPANY_OWNER): "denied", NO_ACCESS: "denied"},
        call=lambda actor: grants_expire(actor=actor),
    )


# -- tables ---------------------------------------------------------------------------------------

ENDS = 'until <time datetime="2026-12-04T17:00:00+00:00">4 Dec 2026, 17:00</time> (in 3\xa0days)'


def _text(html: str) -> str:
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_the_project_iam_table_shows_a_raised_groups_end_then_its_role_back(demo, login, raised_group):
    url = reverse("project_iam", args=["acme", "webshop"])
    with time_machine.travel(NOW, tick=False):  # sessions last 8 hours: sign in at each moment
        html = login("owner").get(url).content.decode()
    group_row = row_html(html, f"project-identity-group-{demo.developers.pk}")
    assert (
        f'<span class="role role-maintainer">Maintainer</span> <span class="role-ends">{ENDS} · then Developer'
        in (group_row)
    )
    junior_row = _text(row_html(html, f"project-identity-user-{demo.user('junior1').pk}"))
    assert (
        "Maintainer (via Acme Developers) until 4 Dec 2026, 17:00 (in 3\xa0days) · then Developer"
        in junior_row
    )
    with time_machine.travel(AFTER, tick=False):
        html = login("owner").get(url).content.decode()
    group_row = row_html(html, f"project-identity-group-{demo.developers.pk}")
    assert "role-maintainer" not in group_row and "until" not in group_row
    assert '<span class="role role-developer">Developer</span>' in group_row


def test_company_tables_show_the_end_of_a_company_role(demo, login):
    senior = demo.user("senior")
    RoleBinding.objects.filter(user=senior, company=demo.acme).update(
        role=MAINTAINER, until=FRIDAY, role_after=GUEST
    )
    RoleBinding.objects.filter(service_account=demo.reader, company=demo.acme).update(
        role=DEVELOPER, until=FRIDAY, role_after=REPORTER
    )
    with time_machine.travel(NOW, tick=False):
        client = login("owner")
        iam = client.get(reverse("company_iam", args=["acme"])).content.decode()
        users = client.get(reverse("company_users", args=["acme"])).content.decode()
        accounts = client.get(reverse("company_service_accounts", args=["acme"])).content.decode()
    ends = f"Maintainer {_text(ENDS)} · then Guest"
    assert ends in _text(row_html(iam, f"identity-user-{senior.pk}"))
    assert ends in _text(row_html(users, f"user-{senior.pk}"))
    assert f"Developer {_text(ENDS)} · then Reporter" in _text(accounts)
    with time_machine.travel(AFTER, tick=False):
        iam = login("owner").get(reverse("company_iam", args=["acme"])).content.decode()
    row = _text(row_html(iam, f"identity-user-{senior.pk}"))
    assert "Guest" in row and "Maintainer" not in row and "until" not in row


# -- dialogs --------------------------------------------------------------------------------------


def _company_edit(kind, pk) -> str:
    return reverse("company_role_edit", args=["acme", kind, pk])


def test_the_company_role_dialog_gives_a_role_for_a_week(demo, login, monday):
    senior = demo.user("senior")
    response = login("owner").post(
        _company_edit("user", senior.pk), {"role": MAINTAINER, "ends": "7d"}, headers=HX
    )
    assert response.status_code == 204
    week = NOW + datetime.timedelta(days=7)
    assert (
        hx_trigger(response)["showMessage"]["text"]
        == "Sara Senior is now Maintainer of Acme until 8 Dec 2026, 17:00."
    )
    assert _binding(user=senior, company=demo.acme) == (MAINTAINER, week, GUEST)


def test_the_company_role_dialog_takes_a_date_and_shows_it_back(demo, login, monday):
    senior, client = demo.user("senior"), login("owner")
    data = {"role": MAINTAINER, "ends": "date", "until": "2026-12-04T17:00"}
    assert client.post(_company_edit("user", senior.pk), data, headers=HX).status_code == 204
    assert _binding(user=senior, company=demo.acme) == (MAINTAINER, FRIDAY, GUEST)
    html = client.get(_company_edit("user", senior.pk), headers=HX).content.decode()
    assert '<option value="date" selected>' in html
    assert 'now <span class="role role-maintainer">Maintainer</span> <span class="role-ends">until' in html
    assert "· then Guest</span>" in html
    assert 'type="datetime-local" name="until" value="2026-12-04T17:00"' in html
    # Saved unchanged, it keeps its end (and the role it returns to).
    assert client.post(_company_edit("user", senior.pk), data, headers=HX).status_code == 204
    assert _binding(user=senior, company=demo.acme) == (MAINTAINER, FRIDAY, GUEST)
    assert AuditEvent.objects.filter(subject_id=senior.pk).count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"ends": "date", "until": ""}, "Enter the date and time the roles end"),
        ({"ends": "date", "until": "next friday"}, "Enter the end as a date and a time"),
        ({"ends": "date", "until": "2026-11-30T09:00"}, "The end must be in the future."),
        ({"ends": "date", "until": "2026-12-01T17:00"}, "The end must be in the future."),
        ({"ends": "forever"}, "Select a valid choice"),
        ({"ends": "date", "until": "9999-12-31T23:59"}, "The end must be within 10 years"),
    ],
)
def test_the_company_role_dialog_refuses_a_bad_end(demo, login, monday, data, error):
    senior = demo.user("senior")
    assert_form_refused(
        login("owner"), _company_edit("user", senior.pk), {"role": MAINTAINER, **data}, error, **HX
    )


def test_the_project_dialog_gives_the_changed_roles_an_end(demo, login, monday):
    junior = demo.user("junior1")
    url = reverse("project_role_edit", args=["acme", "webshop", "user", junior.pk])
    data = {
        "project_role": MAINTAINER,
        f"env_{demo.production.pk}": MAINTAINER,
        f"env_{demo.staging.pk}": MAINTAINER,
        "ends": "1d",
    }
    assert login("owner").post(url, data, headers=HX).status_code == 204
    tomorrow = NOW + datetime.timedelta(days=1)
    assert _binding(user=junior, project=demo.webshop) == (MAINTAINER, tomorrow, DEVELOPER)
    assert _binding(user=junior, environment=demo.production) == (MAINTAINER, tomorrow, "")
    assert _binding(user=junior, environment=demo.staging) == (MAINTAINER, None, "")


def test_extend_and_end_now_dialogs(demo, login, monday, raised_group):
    client = login("owner")
    extend = reverse("binding_extend", args=["acme", raised_group.pk])
    dialog = client.get(extend, headers=HX).content.decode()
    assert "Acme Developers" in dialog and "Maintainer" in dialog and 'name="ends"' in dialog
    assert '<option value="never"' not in dialog
    response = client.post(extend, {"ends": "30d"}, headers=HX)
    assert response.status_code == 204
    assert _binding(pk=raised_group.pk) == (MAINTAINER, NOW + datetime.timedelta(days=30), DEVELOPER)
    assert_form_refused(client, extend, {"ends": "date", "until": "2026-01-01T00:00"}, "in the future", **HX)

    end = reverse("binding_end", args=["acme", raised_group.pk])
    assert "Developer holds again, for good" in client.get(end, headers=HX).content.decode()
    response = client.post(end, headers=HX)
    assert response.status_code == 204
    assert hx_trigger(response)["showMessage"]["text"] == (
        "Acme Developers' Maintainer role on Webshop ended; Developer holds again."
    )
    assert _binding(pk=raised_group.pk) == (DEVELOPER, None, "")
    assert_form_refused(client, end, {}, "has no end date", **HX)


def test_extend_of_another_companys_role_is_404(demo, login, monday):
    globex_owner = RoleBinding.objects.get(company=demo.globex)
    RoleBinding.objects.filter(pk=globex_owner.pk).update(until=FRIDAY)
    for name in ("binding_extend", "binding_end"):
        assert (
            login("owner").post(reverse(name, args=["acme", globex_owner.pk]), {"ends": "1d"}).status_code
            == 404
        )
    assert _binding(pk=globex_owner.pk)[1] == FRIDAY


def test_extend_and_end_now_pages_matrix(demo, persona, monday):
    binding = _time_limited_on_webshop(demo)
    assert_access_matrix(
        persona,
        {
            ANONYMOUS: 302,
            Persona("company", COMPANY_OWNER): 204,
            Persona("project", PROJECT_ADMIN): 204,
            Persona("project", MAINTAINER): 403,
            Persona("company", GUEST): 404,
            OTHER_COMPANY_OWNER: 404,
        },
        post=reverse("binding_end", args=["acme", binding.pk]),
        headers=HX,
        then=lambda who, response: not RoleBinding.objects.filter(pk=binding.pk).exists(),
    )


def test_rows_with_an_end_offer_extend_and_end_now(demo, login, monday, raised_group):
    html = login("owner").get(reverse("project_iam", args=["acme", "webshop"])).content.decode()
    row = row_html(html, f"project-identity-group-{demo.developers.pk}")
    assert 'aria-label="Extend the project role of Acme Developers"' in row
    assert reverse("binding_end", args=["acme", raised_group.pk]) in row
    senior_row = row_html(html, f"project-identity-user-{demo.user('senior').pk}")
    assert "Extend" not in senior_row


def test_adding_identities_until_a_moment(demo, login, monday):
    """Add user, Create group, Add service account (from the company or a project): the end is stored on
    every role the dialog gives, and on record."""
    client, week = login("owner"), NOW + datetime.timedelta(days=7)
    newcomer = User.objects.create_user("temp@acme.test", "x-password", full_name="Tim Temp")
    post = {"email": newcomer.email, "role": DEVELOPER, "ends": "7d"}
    assert client.post(reverse("company_user_add", args=["acme"]), post, headers=HX).status_code == 204
    assert _binding(user=newcomer, company=demo.acme) == (DEVELOPER, week, "")
    assert AuditEvent.objects.get(action=Action.USER_ADDED).after == {
        "role": DEVELOPER,
        "until": week.isoformat(),
    }

    post = {
        "name": "Contractors",
        "role": REPORTER,
        "members": "",
        "ends": "date",
        "until": "2026-12-04T17:00",
    }
    assert client.post(reverse("group_create", args=["acme"]), post, headers=HX).status_code == 204
    group = Group.objects.get(name="Contractors")
    assert _binding(group=group, company=demo.acme) == (REPORTER, FRIDAY, "")
    edit = reverse("group_edit", args=["acme", group.pk])
    assert 'value="2026-12-04T17:00"' in client.get(edit, headers=HX).content.decode()
    post = {"name": "Contractors", "role": REPORTER, "ends": "never"}
    assert client.post(edit, post, headers=HX).status_code == 204
    assert _binding(group=group, company=demo.acme) == (REPORTER, None, "")

    post = {"name": "nightly", "role": REPORTER, "auth_method": "client_secret_basic", "ends": "1d"}
    assert (
        client.post(reverse("company_service_account_add", args=["acme"]), post, headers=HX).status_code
        == 200
    )
    account = ServiceAccount.objects.get(name="nightly")
    assert _binding(service_account=account, company=demo.acme) == (
        REPORTER,
        NOW + datetime.timedelta(days=1),
        "",
    )


def test_adding_a_user_from_a_project_until_a_moment(demo, login, monday):
    newcomer = User.objects.create_user("temp@acme.test", "x-password", full_name="Tim Temp")
    post = {"email": newcomer.email, "company_role": GUEST, "project_role": DEVELOPER, "ends": "30d"}
    url = reverse("project_user_add", args=["acme", "webshop"])
    assert login("owner").post(url, post, headers=HX).status_code == 204
    month = NOW + datetime.timedelta(days=30)
    assert _binding(user=newcomer, company=demo.acme) == (GUEST, month, "")
    assert _binding(user=newcomer, project=demo.webshop) == (DEVELOPER, month, "")
    assert_form_refused(
        login("owner"),
        url,
        {**post, "email": "x@acme.test", "ends": "date", "until": "soon"},
        "Enter the end",
        **HX,
    )


@pytest.mark.parametrize(
    ("page", "row_id", "lasting_id"),
    [
        ("company_users", "user-{senior}", "user-{pm}"),
        ("company_groups", "group-{group}", "group-{ops}"),
        ("company_service_accounts", "service-account-{reader}", "service-account-{deployer}"),
        ("company_iam", "identity-user-{senior}", "identity-user-{pm}"),
    ],
)
def test_company_tables_offer_extend_and_end_now_for_a_time_limited_company_role(
    demo, login, monday, page, row_id, lasting_id
):
    senior, ops = demo.user("senior"), Group.objects.create(company=demo.acme, name="Ops")
    RoleBinding.objects.create(group=ops, company=demo.acme, role=REPORTER)
    bindings = RoleBinding.objects.filter(company=demo.acme).filter(
        Q(user=senior) | Q(group=demo.developers) | Q(service_account=demo.reader)
    )
    bindings.update(until=FRIDAY)
    html = login("owner").get(reverse(page, args=["acme"])).content.decode()
    ids = {"senior": senior.pk, "group": demo.developers.pk, "reader": demo.reader.pk}
    ids |= {"pm": demo.user("pm").pk, "ops": ops.pk, "deployer": demo.deployer.pk}
    row = row_html(html, row_id.format(**ids))
    linked = {b.pk for b in bindings if reverse("binding_extend", args=["acme", b.pk]) in row}
    assert len(linked) == 1 and ">End now</a>" in row
    lasting = row_html(html, lasting_id.format(**ids))
    assert lasting and "Extend" not in lasting


def test_the_seeds_scenario_is_one_action(demo, monday):
    """Raise "Acme Developers" to Maintainer on Webshop until Friday: every member deploys until then, and
    is back to Developer after it (before anything tidies the grant)."""
    owner, group = demo.user("owner"), demo.developers
    role_set(actor=owner, subject=group, resource=demo.webshop, role=MAINTAINER, until=FRIDAY)
    members = list(group.members.all())
    assert len(members) == 2
    for member in members:
        assert AccessResolver(member).role_on(demo.webshop) == MAINTAINER
    with time_machine.travel(AFTER, tick=False):
        for member in members:
            assert AccessResolver(member).role_on(demo.webshop) == DEVELOPER


def test_the_admin_keeps_the_end_of_a_role_it_saves_unchanged(demo, monday, raised_group):
    request = SimpleNamespace(user=demo.user("admin@acme.test"))
    binding_write_from_admin(request, RoleBinding.objects.get(pk=raised_group.pk))
    assert _binding(pk=raised_group.pk) == (MAINTAINER, FRIDAY, DEVELOPER)


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL: SKIP LOCKED (SQLite runs one writer at a time, so runs cannot overlap)",
)
@pytest.mark.django_db(transaction=True)
def test_overlapping_expire_grants_runs_end_each_grant_once(demo):
    """Cron overlapping itself, or two pods: the runs share the ended grants (SKIP LOCKED), none twice."""
    ended = RoleBinding.objects.filter(project=demo.webshop, user__isnull=False)
    pks = list(ended.values_list("pk", flat=True))
    ended.update(until=timezone.now() - datetime.timedelta(minutes=1))
    runs, barrier, failures = 4, threading.Barrier(4, timeout=20), []

    def run():
        try:
            barrier.wait()
            call_command("expire_grants", "--batch", "2", stdout=io.StringIO())
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert not RoleBinding.objects.filter(pk__in=pks).exists()
    ended_events = AuditEvent.objects.filter(action=Action.ROLE_ENDED, resource_path="acme/webshop")
    assert ended_events.count() == len(pks) == 7


def test_expire_grants_skips_a_grant_the_cascade_already_took(demo, monday):
    """Sara's company role and her raised Webshop role end together: losing the company takes Webshop too,
    so that grant is not ended a second time."""
    senior = demo.user("senior")
    RoleBinding.objects.filter(user=senior, company=demo.acme).update(until=FRIDAY)
    RoleBinding.objects.filter(user=senior, project=demo.webshop).update(
        role=PROJECT_ADMIN, until=FRIDAY, role_after=MAINTAINER
    )
    with time_machine.travel(AFTER, tick=False):
        call_command("expire_grants", stdout=io.StringIO())
    assert not RoleBinding.objects.filter(user=senior).exists()
    events = AuditEvent.objects.filter(subject_id=senior.pk).order_by("id")
    assert [(e.action, e.resource_path) for e in events] == [
        (Action.ROLE_ENDED, "acme"),
        (Action.ROLE_REMOVED, "acme/webshop"),
    ]


def test_extend_and_end_now_work_without_javascript(demo, login, monday, raised_group):
    client = login("owner")
    extend = reverse("binding_extend", args=["acme", raised_group.pk])
    page = client.get(extend)
    assert page.status_code == 200 and "<h1>Extend a role</h1>" in page.content.decode()
    response = client.post(extend, {"ends": "7d"})
    assert (response.status_code, response["Location"]) == (302, "/companies/acme/projects/webshop/iam/")
    response = client.post(reverse("binding_end", args=["acme", raised_group.pk]))
    assert (response.status_code, response["Location"]) == (302, "/companies/acme/projects/webshop/iam/")
    assert _binding(pk=raised_group.pk) == (DEVELOPER, None, "")
