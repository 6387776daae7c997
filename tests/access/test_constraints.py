"""Invalid data refused by the database itself, whatever the forms and services do."""

import pytest
from django.db import IntegrityError, transaction

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, Project

SUBJECTS = ("user", "group", "service_account")
RESOURCES = ("company", "project", "environment")


@pytest.fixture
def world(db):
    """One of each subject and resource, without any binding."""
    acme = Company.objects.create(slug="acme", name="Acme")
    project = Project.objects.create(company=acme, slug="webshop", name="Webshop")
    environment = Environment.objects.create(project=project, env_id="production", name="Production")
    return {
        "user": User.objects.create_user("someone@example.test"),
        "group": Group.objects.create(company=acme, name="Team"),
        "service_account": ServiceAccount.objects.create(company=acme, name="bot"),
        "company": acme,
        "project": project,
        "environment": environment,
    }


def refused(**fields) -> bool:
    """True when the database refuses RoleBinding.objects.create(**fields)."""
    try:
        with transaction.atomic():
            RoleBinding.objects.create(**fields)
    except IntegrityError:
        return True
    return False


def assert_refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_a_valid_binding_is_accepted(world):
    assert not refused(role="developer", user=world["user"], company=world["company"])
    assert RoleBinding.objects.count() == 1


def test_a_binding_without_subject_is_refused(world):
    assert refused(role="developer", company=world["company"])
    assert RoleBinding.objects.count() == 0


@pytest.mark.parametrize(
    ("first", "second"), [("user", "group"), ("user", "service_account"), ("group", "service_account")]
)
def test_a_binding_with_two_subjects_is_refused(world, first, second):
    assert refused(role="developer", company=world["company"], **{first: world[first], second: world[second]})


def test_a_binding_with_three_subjects_is_refused(world):
    subjects = {name: world[name] for name in SUBJECTS}
    assert refused(role="developer", company=world["company"], **subjects)


def test_a_binding_without_resource_is_refused(world):
    assert refused(role="developer", user=world["user"])


@pytest.mark.parametrize(
    ("first", "second"), [("company", "project"), ("company", "environment"), ("project", "environment")]
)
def test_a_binding_on_two_resources_is_refused(world, first, second):
    assert refused(role="reporter", user=world["user"], **{first: world[first], second: world[second]})


def test_company_owner_on_a_project_is_refused(world):
    assert refused(role="company-owner", user=world["user"], project=world["project"])


@pytest.mark.parametrize("role", ["guest", "developer", "project-admin", "company-owner"])
def test_a_role_that_cannot_be_bound_on_an_environment_is_refused(world, role):
    assert refused(role=role, user=world["user"], environment=world["environment"])


@pytest.mark.parametrize(
    ("role", "resource"),
    [
        ("guest", "company"),
        ("company-owner", "company"),
        ("guest", "project"),
        ("project-admin", "project"),
        ("reporter", "environment"),
        ("maintainer", "environment"),
    ],
)
def test_a_role_valid_for_its_level_is_accepted(world, role, resource):
    assert not refused(role=role, user=world["user"], **{resource: world[resource]})


@pytest.mark.parametrize("role", ["owner", "admin", "", "Developer"])
def test_an_unknown_role_id_is_refused(world, role):
    assert refused(role=role, user=world["user"], company=world["company"])


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("resource", RESOURCES)
def test_a_second_role_for_the_same_subject_on_the_same_resource_is_refused(world, subject, resource):
    fields = {subject: world[subject], resource: world[resource]}
    assert not refused(role="reporter", **fields)
    assert refused(role="maintainer", **fields)
    assert refused(role="reporter", **fields)
    assert RoleBinding.objects.get(**fields).role == "reporter"


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_same_subject_may_hold_roles_on_different_resources(world, subject):
    for resource in RESOURCES:
        assert not refused(role="reporter", **{subject: world[subject], resource: world[resource]})
    assert RoleBinding.objects.count() == 3


def test_different_subjects_may_hold_roles_on_the_same_resource(world):
    for subject in SUBJECTS:
        assert not refused(
            role="maintainer", **{subject: world[subject], "environment": world["environment"]}
        )


def test_bulk_create_cannot_sneak_in_a_duplicate(world):
    def create():
        RoleBinding.objects.bulk_create(
            [
                RoleBinding(role="reporter", user=world["user"], project=world["project"]),
                RoleBinding(role="developer", user=world["user"], project=world["project"]),
            ]
        )

    assert_refused(create)
    assert RoleBinding.objects.count() == 0


def test_bulk_create_cannot_sneak_in_an_invalid_binding(world):
    def create():
        RoleBinding.objects.bulk_create([RoleBinding(role="developer", environment=world["environment"])])

    assert_refused(create)


# -- names and ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Team", "team", "TEAM", "tEaM"])
def test_group_name_is_unique_in_its_company_whatever_the_case(world, name):
    assert_refused(lambda: Group.objects.create(company=world["company"], name=name))


@pytest.mark.parametrize(
    ("model", "fields", "same"),
    [
        (Group, {"name": "TEAM"}, {"name__iexact": "team"}),
        (ServiceAccount, {"name": "bot"}, {"name": "bot"}),
        (Project, {"slug": "webshop", "name": "Webshop"}, {"slug": "webshop"}),
    ],
    ids=["group-name", "service-account-name", "project-slug"],
)
def test_the_same_name_is_fine_in_another_company(world, model, fields, same):
    globex = Company.objects.create(slug="globex", name="Globex")
    model.objects.create(company=globex, **fields)
    assert model.objects.filter(**same).count() == 2


@pytest.mark.parametrize("name", ["bot", "BOT"])
def test_service_account_name_is_unique_in_its_company(world, name):
    assert_refused(lambda: ServiceAccount.objects.create(company=world["company"], name=name))


def test_root_service_account_name_is_unique_among_root_accounts(world):
    ServiceAccount.objects.create(company=None, name="root-bot")
    assert_refused(lambda: ServiceAccount.objects.create(company=None, name="Root-Bot"))


def test_service_account_client_id_is_unique(world):
    assert_refused(
        lambda: ServiceAccount.objects.create(
            company=world["company"], name="other", client_id=world["service_account"].client_id
        )
    )


def test_project_slug_is_unique_in_its_company(world):
    assert_refused(lambda: Project.objects.create(company=world["company"], slug="webshop", name="Again"))


def test_company_slug_is_unique(world):
    assert_refused(lambda: Company.objects.create(slug="acme", name="Acme again"))


def test_environment_id_is_unique_in_its_project(world):
    assert_refused(
        lambda: Environment.objects.create(project=world["project"], env_id="production", name="P")
    )


def test_the_same_environment_id_is_fine_in_another_project(world):
    other = Project.objects.create(company=world["company"], slug="payments", name="Payments")
    Environment.objects.create(project=other, env_id="production", name="Production")
    assert Environment.objects.filter(env_id="production").count() == 2


def test_user_email_is_unique(world):
    assert_refused(lambda: User.objects.create(email="someone@example.test"))


def test_group_membership_is_unique(world):
    GroupMembership.objects.create(group=world["group"], user=world["user"])
    assert_refused(lambda: GroupMembership.objects.create(group=world["group"], user=world["user"]))


# -- service account credentials ------------------------------------------------------------------------

JWK = {"kty": "RSA", "n": "abc", "e": "AQAB"}


SECRET, KEY = ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC, ServiceAccount.AuthMethod.PRIVATE_KEY_JWT


@pytest.mark.parametrize(
    ("name", "credentials"),
    [
        ("mixed", {"auth_method": SECRET, "secret_hash": "0" * 64, "public_key": JWK}),
        ("keyless", {"auth_method": KEY}),
        ("both", {"auth_method": KEY, "public_key": JWK, "secret_hash": "0" * 64}),
        ("odd", {"auth_method": "password"}),
    ],
    ids=[
        "a-secret-account-may-not-carry-a-public-key",
        "a-jwt-account-needs-a-public-key",
        "a-jwt-account-may-not-carry-a-secret",
        "an-unknown-auth-method",
    ],
)
def test_credentials_that_do_not_fit_the_method_are_refused(world, name, credentials):
    assert_refused(lambda: ServiceAccount.objects.create(company=world["company"], name=name, **credentials))


def test_switching_method_without_switching_credentials_is_refused(world):
    account = world["service_account"]
    account.auth_method = ServiceAccount.AuthMethod.PRIVATE_KEY_JWT
    assert_refused(account.save)


def test_matching_credentials_are_accepted(world):
    ServiceAccount.objects.create(
        company=world["company"],
        name="jwt",
        auth_method=ServiceAccount.AuthMethod.PRIVATE_KEY_JWT,
        public_key=JWK,
        key_id="k1",
    )
    ServiceAccount.objects.create(
        company=world["company"],
        name="secret",
        auth_method=ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC,
        secret_hash="0" * 64,
    )
    assert ServiceAccount.objects.count() == 3


def test_a_binding_reads_with_the_path_of_its_resource(demo):
    """Issue 9 #15: an environment binding names its project (and company) wherever it is listed."""
    binding = RoleBinding.objects.select_related("environment__project__company").get(
        user=demo.user("junior1"), environment=demo.staging
    )
    assert str(binding) == "Maintainer: junior1@acme.test on environment acme/webshop/staging"
    company_binding = RoleBinding.objects.get(user=demo.user("owner"), company=demo.acme)
    assert str(company_binding) == "Company Owner: owner@acme.test on company acme"
