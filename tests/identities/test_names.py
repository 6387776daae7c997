"""Look-alike names of groups and service accounts (issue 9 #22): one clean form, one comparison key, the
same in forms, services, the admin and the database's unique constraints."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from iam_portal.access.catalogue import REPORTER
from iam_portal.access.resolver import SYSTEM
from iam_portal.access.services import ActionRefused
from iam_portal.identities import services
from iam_portal.identities.models import Group, ServiceAccount
from iam_portal.identities.names import name_clean, name_key
from tests.helpers import HX, admin_url, assert_form_refused, changes_nothing, no_inline_rows

LOOK_ALIKES = [
    "Acme  Developers",  # two spaces
    "Acme Developers\u200b",  # trailing zero-width space
    "Acme\u00a0Developers",  # no-break space
    "\uff21\uff43\uff4d\uff45 Developers",  # full-width letters
    "ACME DEVELOPERS",
    " acme\tdevelopers ",
    "Acme\u2060 Developers",  # word joiner
]
HOSTILE = [
    "Acme \u202eDevelopers",  # right-to-left override
    "Acme \u2066Developers\u2069",  # isolate
    "Acme\x07Developers",  # control character
    "Acme\u200fDevelopers",  # right-to-left mark
    "\u200b \u200b",  # nothing visible
    "x" * 151,
    "\u0410cme Developers",  # a Cyrillic capital A among Latin letters
    "Acme Dev\u0435lopers",  # a Cyrillic small ie for the Latin e
]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alikes_have_the_key_of_the_real_name(name):
    assert name_key(name) == name_key("Acme Developers")
    assert name_clean(name).casefold() == "acme developers"


def test_words_in_one_alphabet_each_are_allowed():
    assert name_clean("Acme Разработчики") == "Acme Разработчики"
    assert name_clean("Développeurs") == "Développeurs"


def test_mixed_alphabet_look_alike_is_refused_with_its_reason():
    with pytest.raises(ValueError, match="different alphabets"):
        name_clean("\u0410cme Developers")


def test_clean_form_keeps_case_and_collapses_white_space():
    assert name_clean("  Acme \u3000 Team\u200d ") == "Acme Team"
    assert name_key("Straße") == name_key("STRASSE")


@pytest.mark.parametrize("name", HOSTILE)
def test_control_bidi_empty_and_overlong_names_are_refused(name):
    with pytest.raises(ValueError):
        name_clean(name)


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_portal_refuses_a_look_alike_group(demo, login, name):
    url = reverse("group_create", args=["acme"])
    assert_form_refused(
        login("owner"), url, {"name": name, "role": REPORTER}, "already has a group named", **HX
    )


@pytest.mark.parametrize("name", HOSTILE)
def test_portal_refuses_hostile_group_and_service_account_names(demo, login, name):
    client = login("owner")
    assert_form_refused(
        client, reverse("group_create", args=["acme"]), {"name": name, "role": REPORTER}, "name", **HX
    )
    data = {"name": name, "role": REPORTER, "auth_method": "client_secret_basic"}
    assert_form_refused(client, reverse("company_service_account_add", args=["acme"]), data, "name", **HX)


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_services_refuse_a_look_alike_group(demo, name):
    with changes_nothing(ActionRefused, "already exists"):
        services.group_create(actor=SYSTEM, company=demo.acme, name=name, role=REPORTER, member_emails=[])


@pytest.mark.parametrize(
    "name", ["CI-DEPLOYER", "ci-deployer\u200b", "\uff43\uff49-deployer", " ci-deployer\u2060"]
)
def test_services_refuse_a_look_alike_service_account(demo, name):
    with changes_nothing(ActionRefused, "already exists"):
        services.service_account_create(
            actor=SYSTEM, company=demo.acme, name=name, role=REPORTER, auth_method="client_secret_basic"
        )


def test_services_store_the_clean_form(demo):
    group = services.group_create(
        actor=SYSTEM,
        company=demo.acme,
        name=" Night\u00a0\u00a0Shift\u200b ",
        role=REPORTER,
        member_emails=[],
    )
    group.refresh_from_db()
    assert (group.name, group.name_key) == ("Night Shift", "night shift")
    services.group_update(actor=SYSTEM, group=group, name="Night  SHIFT", role=REPORTER)
    group.refresh_from_db()
    assert (group.name, group.name_key) == ("Night SHIFT", "night shift")


def test_the_database_refuses_look_alikes_that_skip_the_services(demo):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Group.objects.create(company=demo.acme, name="acme developers\u200b")
    with transaction.atomic(), pytest.raises(IntegrityError):
        ServiceAccount.objects.create(company=demo.acme, name="CI-DEPLOYER\u2060")


def test_admin_refuses_look_alike_group_and_service_account(demo, login):
    client = login("admin@acme.test")
    data = {
        "company": demo.acme.pk,
        "name": "Acme\u00a0Developers",
        **no_inline_rows("memberships", "role_bindings"),
    }
    assert_form_refused(client, admin_url(Group, "add"), data, "already has a group named")
    data = {
        "company": demo.acme.pk,
        "name": "ci-deployer\u200b",
        "auth_method": "client_secret_basic",
        **no_inline_rows("role_bindings"),
    }
    assert_form_refused(client, admin_url(ServiceAccount, "add"), data, "already has a service account named")
    data["name"] = "ci \u202edeployer"
    assert_form_refused(client, admin_url(ServiceAccount, "add"), data, "direction of the text")
    data["name"] = "ci-d\u0435ployer"  # a Cyrillic small ie
    assert_form_refused(client, admin_url(ServiceAccount, "add"), data, "different alphabets")
