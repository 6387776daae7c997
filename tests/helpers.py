"""Plain helpers shared by the tests (fixtures live in the conftests, and nothing imports a conftest).

- responses: HX, hx_trigger, messages_of, row_html, count_queries, assert_form_refused, assert_csrf_refused
- the database: bind, snapshot ("nothing changed"), changes_nothing, company_roles
- personas and authorization matrices: Persona and the persona sets, assert_access_matrix, and the two
  tables most pages share (may_manage_company / assert_company_matrix, project_matrix)
- keys: rsa_private_key, public_pem
- the admin: admin_url, form_data, add_inline_row, no_inline_rows, MODELS, an_object
- the browser: dialog, open_dialog, submit_company_role, expect_dialog_closed
- the audit log: events_since, the_event
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.audit.models import AuditEvent
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.models import Company, Environment, FeatureToggle, Project, ProjectTemplate

HX = {"HX-Request": "true"}

# -- responses ------------------------------------------------------------------------------------


def hx_trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def row_html(html: str, row_id: str) -> str:
    """The <tr id="row_id">…</tr> element of a rendered table ("" when absent)."""
    start = html.find(f'id="{row_id}"')
    if start == -1:
        return ""
    start = html.rfind("<tr", 0, start)
    end = html.find("</tr>", start)
    return html[start : end + len("</tr>")]


def count_queries(client, url: str, params=None, **headers) -> int:
    """How many queries one successful GET of `url` costs."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params, headers=headers)
    assert response.status_code == 200
    return len(queries)


def assert_form_refused(client, url: str, data: dict, error: str, **headers):
    """POSTing `data` re-renders the form (200, no HX-Trigger) showing `error`, and nothing changes.
    Returns the response."""
    before = snapshot()
    response = client.post(url, data, headers=headers)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "HX-Trigger" not in response
    assert snapshot() == before
    return response


def assert_csrf_refused(client, url: str, data: dict, *, token_from: str = "") -> None:
    """`client` enforces CSRF checks and is signed in. A POST without the token is 403, with or without
    htmx, and nothing changes. With token_from (a page that sets the CSRF cookie) the same POST carrying the
    token then succeeds over htmx (204): the 403 was the CSRF check."""
    before = snapshot()
    for headers in ({}, HX):
        assert client.post(url, data, headers=headers).status_code == 403
    assert snapshot() == before
    if token_from:
        client.get(token_from)
        token = client.cookies["csrftoken"].value
        assert client.post(url, data, headers={**HX, "X-CSRFToken": token}).status_code == 204
        assert snapshot() != before


# -- the database ---------------------------------------------------------------------------------


def bind(subject, role: str, resource) -> RoleBinding:
    """bind(subject, role, resource) → a RoleBinding for a user, group or service account on a company,
    project or environment, made straight in the database."""
    subject_field = {User: "user", Group: "group", ServiceAccount: "service_account"}[type(subject)]
    resource_field = {Company: "company", Project: "project", Environment: "environment"}[type(resource)]
    return RoleBinding.objects.create(role=role, **{subject_field: subject, resource_field: resource})


def snapshot() -> dict:
    """Every row an identity or admin action could touch, in a comparable form."""
    return {
        "companies": sorted(Company.objects.values_list("pk", "slug", "name")),
        "projects": sorted(Project.objects.values_list("pk", "company_id", "slug", "name")),
        "environments": sorted(Environment.objects.values_list("pk", "project_id", "env_id", "name")),
        "bindings": sorted(
            RoleBinding.objects.values_list(
                "pk",
                "role",
                "user_id",
                "group_id",
                "service_account_id",
                "company_id",
                "project_id",
                "environment_id",
            )
        ),
        "memberships": sorted(GroupMembership.objects.values_list("pk", "group_id", "user_id")),
        "groups": sorted(Group.objects.values_list("pk", "company_id", "name")),
        "service_accounts": sorted(
            ServiceAccount.objects.values_list("pk", "company_id", "name", "secret_hash")
        ),
        "users": sorted(User.objects.values_list("pk", "email", "is_active")),
    }


@contextmanager
def changes_nothing(raises: type[Exception], match: str | None = None):
    """with changes_nothing(LastOwnerRefused): ... — the block must raise `raises` (its message matching
    `match`) and leave every row as it was (snapshot())."""
    before = snapshot()
    with pytest.raises(raises, match=match):
        yield
    assert snapshot() == before


def company_roles(company: Company) -> dict[str, str]:
    """{"user:<email>" | "group:<name>" | "sa:<name>": role} for every company binding."""
    result = {}
    for b in RoleBinding.objects.filter(company=company).select_related("user", "group", "service_account"):
        if b.user_id:
            result[f"user:{b.user.email}"] = b.role
        elif b.group_id:
            result[f"group:{b.group.name}"] = b.role
        else:
            result[f"sa:{b.service_account.name}"] = b.role
    return result


# -- personas -------------------------------------------------------------------------------------

ROOT_VIEW = "console.root.view"
ROOT_BIND = "console.root.user.bind"


@dataclass(frozen=True)
class Persona:
    """Who makes a request, on the demo data (the `persona` fixture makes the account):

    - "anonymous": nobody signed in (no account);
    - "no-access": a fresh account with no role anywhere;
    - "company", "project", "other-project", "environment": a fresh account holding `role` on Acme, on
      Webshop, on Payments or on Webshop's production (the last three also Guest on Acme, so they reach
      the company), directly or, with via_group, through a new Acme group bound there;
    - "staff": a fresh staff account (not a super user) holding the root `keys`;
    - "superuser": the demo's super user admin@acme.test;
    - "other-company-owner": Globex's owner, owner@globex.test.

    `keys` are stored on any fresh account; they count for "staff" only.
    """

    kind: str
    role: str | None = None
    via_group: bool = False
    keys: tuple[str, ...] = ()

    def __str__(self) -> str:
        name = self.kind if self.role is None else f"{self.kind}:{self.role}"
        name += " via group" if self.via_group else ""
        return f"{name}[{','.join(self.keys)}]" if self.keys else name

    def create(self, demo, n: int, *, email="", full_name="", password="x-password-not-used") -> User | None:
        if self.kind == "anonymous":
            return None
        if self.kind == "superuser":
            return demo.user("admin@acme.test")
        if self.kind == "other-company-owner":
            return demo.user("owner@globex.test")
        places = {
            "company": demo.acme,
            "project": demo.webshop,
            "other-project": demo.payments,
            "environment": demo.production,
        }
        if self.kind not in places and self.kind not in ("no-access", "staff"):
            raise ValueError(f"unknown persona kind {self.kind!r}")
        user = User.objects.create_user(
            email or f"{self.kind}{n}@example.test",
            password,
            full_name=full_name or f"{self} {n}",
            is_staff=self.kind == "staff",
            root_permissions=list(self.keys),
        )
        place = places.get(self.kind)
        if place is None:
            return user
        if self.kind != "company":
            bind(user, GUEST, demo.acme)
        holder = user
        if self.via_group:
            holder = Group.objects.create(company=demo.acme, name=f"{self} {n}")
            GroupMembership.objects.create(group=holder, user=user)
        bind(holder, self.role, place)
        return user


ANONYMOUS = Persona("anonymous")
NO_ACCESS = Persona("no-access")
SUPERUSER = Persona("superuser")
OTHER_COMPANY_OWNER = Persona("other-company-owner")
ROOT_VIEWER = Persona("staff", keys=(ROOT_VIEW,))
ROOT_BINDER = Persona("staff", keys=(ROOT_VIEW, ROOT_BIND))

PROJECT_ROLES = (GUEST, REPORTER, DEVELOPER, MAINTAINER, PROJECT_ADMIN)
COMPANY_ROLES = (*PROJECT_ROLES, COMPANY_OWNER)

# The company matrix (DESIGN §6: who may manage the company's identities). Everyone else is refused.
COMPANY_MANAGERS = (
    Persona("company", COMPANY_OWNER),
    Persona("company", COMPANY_OWNER, via_group=True),
    SUPERUSER,
    ROOT_BINDER,
)
COMPANY_MANAGER_DENIALS = {
    ANONYMOUS: 302,
    **{Persona("company", role): 403 for role in PROJECT_ROLES},
    ROOT_VIEWER: 403,
    OTHER_COMPANY_OWNER: 404,
}


def may_manage_company(status: int) -> dict[Persona, int]:
    """Every persona of the company matrix and its status, the managers getting `status`."""
    return {**COMPANY_MANAGER_DENIALS, **dict.fromkeys(COMPANY_MANAGERS, status)}


def assert_company_matrix(persona, method: str, url: str, data=None, *, status: int, back_to="", check=None):
    """The company matrix of one request: the managers get `status` (an allowed redirect goes `back_to`,
    and check() holds afterwards when given); everyone else is refused and nothing changes."""

    def did_it(who, response):
        if status == 302:
            assert response["Location"] == back_to
        if check is not None:
            assert check()

    assert_access_matrix(persona, may_manage_company(status), **{method: url}, data=data, then=did_it)


# The project matrix (DESIGN §6) on Webshop's IAM page: what each persona may do there. NONE: the project
# does not exist for them; VIEW: read-only; EDIT: project and environment roles; ADD: also add identities.
NONE, VIEW, EDIT, ADD = "none", "view", "edit", "add"
COMPANY_LEVEL = {
    GUEST: NONE,
    REPORTER: VIEW,
    DEVELOPER: VIEW,
    MAINTAINER: VIEW,
    PROJECT_ADMIN: EDIT,
    COMPANY_OWNER: ADD,
}
PROJECT_LEVELS = {
    **{Persona("company", role): COMPANY_LEVEL[role] for role in COMPANY_ROLES},
    **{Persona("company", role, via_group=True): COMPANY_LEVEL[role] for role in COMPANY_ROLES},
    **{Persona("project", role): EDIT if role == PROJECT_ADMIN else VIEW for role in PROJECT_ROLES},
    **{Persona("other-project", role): NONE for role in PROJECT_ROLES},
    SUPERUSER: ADD,
}
PROJECT_STRANGERS = {ANONYMOUS: 302, OTHER_COMPANY_OWNER: 404}


def project_matrix(statuses: Mapping[str, int]) -> dict[Persona, int]:
    """Every persona of the project matrix and its status, by level ({NONE: 404, VIEW: 403, ...})."""
    return {**{who: statuses[level] for who, level in PROJECT_LEVELS.items()}, **PROJECT_STRANGERS}


# -- the authorization matrix ---------------------------------------------------------------------

LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
DENIAL_STATUSES = (403, 404, 405)


def assert_access_matrix(
    persona: Callable[[Persona], User | None],
    expected: Mapping[Persona, int | str],
    *,
    get: str | None = None,
    post: str | None = None,
    data: dict | None = None,
    headers: dict | None = None,
    call: Callable[[User | None], object] | None = None,
    then: Callable[[Persona, object], None] | None = None,
) -> None:
    """Run one request (get= or post= a URL, with data and headers) or one service call (call(actor)) as
    every persona of `expected`, and assert the whole outcome table at once: {persona: exact status} for a
    request, {persona: "allowed" | "denied"} for a call ("denied": it raised PermissionDenied).

    `persona` is the persona fixture. Each row signs a fresh client in and runs inside its own savepoint,
    rolled back afterwards, so every row starts from the same data. A denial (403, 404, 405, a redirect to
    a login page, PermissionDenied) and every GET must leave every row of snapshot() as it was; an
    anonymous visitor's redirect must go to the login page with the URL as `next`. then(persona, response
    or result) runs after each allowed row that got its expected outcome, before the rollback: the place to
    check what the allowed action did.
    """
    assert [get, post, call].count(None) == 2, "one of get=, post= or call="
    outcomes, changed = {}, []
    for who in expected:
        with transaction.atomic():
            user = persona(who)
            before = snapshot()
            if call is not None:
                result, outcome = _call_as(user, call)
                denied = outcome == "denied"
            else:
                result = _request_as(user, get, post, data, headers or {})
                outcome, denied = _outcome(result, user, get or post)
            outcomes[str(who)] = outcome
            if (denied or get is not None) and snapshot() != before:
                changed.append(str(who))
            if then is not None and not denied and outcome == expected[who]:
                try:
                    then(who, result)
                except AssertionError as error:
                    error.add_note(f"as {who}")
                    raise
            transaction.set_rollback(True)
    assert outcomes == {str(who): outcome for who, outcome in expected.items()}
    assert changed == [], "refused or read-only, yet the data changed"


def _call_as(user, call):
    try:
        return call(user), "allowed"
    except PermissionDenied as refusal:
        return refusal, "denied"


def _request_as(user, get, post, data, headers):
    client = Client()
    if user is not None:
        client.force_login(user)
    if get is not None:
        return client.get(get, headers=headers)
    return client.post(post, data or {}, headers=headers)


def _outcome(response, user, url: str) -> tuple[int | str, bool]:
    """(status, denied). An anonymous redirect anywhere but to a login page with `next` is reported as the
    status followed by where it went, so that the table shows it."""
    status = response.status_code
    location = response.get("Location", "")
    to_login = status == 302 and location.startswith(LOGIN_PAGES)
    if user is None and status == 302:
        next_url = quote(url, safe="/")
        if location not in {f"{page}?next={next_url}" for page in LOGIN_PAGES}:
            return f"302 to {location}", False
    return status, status in DENIAL_STATUSES or to_login


# -- keys -----------------------------------------------------------------------------------------


def rsa_private_key(key_size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def public_pem(key) -> str:
    """The SubjectPublicKeyInfo PEM of a private key's public half."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# -- the admin ------------------------------------------------------------------------------------

MODELS = [
    Company,
    Project,
    Environment,
    ProjectTemplate,
    FeatureToggle,
    User,
    Group,
    GroupMembership,
    ServiceAccount,
    RoleBinding,
]


def an_object(model, demo):
    """One object of `model` in the demo data (a feature toggle is made: the demo has none)."""
    if model is FeatureToggle:
        return FeatureToggle.objects.create(key="audit-log-export", description="Export audit logs as CSV.")
    return {
        Company: demo.acme,
        Project: demo.webshop,
        Environment: demo.production,
        Group: demo.developers,
        ServiceAccount: demo.deployer,
        User: demo.user("owner"),
    }.get(model) or model.objects.order_by("pk").first()


def admin_url(model, action: str = "changelist", *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _post_value(bound_field):
    value = bound_field.value()
    if bound_field.field.disabled:
        return None
    if isinstance(value, bool):
        return "on" if value else None
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def form_data(response) -> dict:
    """The POST data an unchanged submit of an admin add/change page would send (main form + inlines)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, bound in ((f.html_name, f) for f in formset.management_form):
            data[name] = str(bound.value())
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            value = _post_value(bound)
            if value is not None:
                data[bound.html_name] = value
    return data


def add_inline_row(data: dict, prefix: str, **fields) -> dict:
    """Append one new row to the inline formset `prefix` (e.g. "role_bindings") of form_data()."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        data[f"{prefix}-{index}-{name}"] = "" if value is None else str(value)
    return data


def no_inline_rows(*prefixes: str) -> dict:
    """Management data for empty inline formsets on an add page."""
    data = {}
    for prefix in prefixes:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


# -- the audit log --------------------------------------------------------------------------------


def events_since(mark: int = 0) -> list:
    """The audit events written after the event with id `mark` (0: all), oldest first."""
    return list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))


def the_event(mark: int = 0, **expected):
    """Exactly one event was written after `mark`, and its fields hold `expected`; returns it."""
    events = events_since(mark)
    assert len(events) == 1, [f"{e.action} {e.subject_name} {e.outcome}" for e in events]
    event = events[0]
    assert {name: getattr(event, name) for name in expected} == expected
    return event


# -- the browser ----------------------------------------------------------------------------------


def dialog(page: Page) -> Locator:
    """The one <dialog> of base.html that every htmx dialog loads into."""
    return page.locator("#dialog")


def open_dialog(link: Locator, heading: str) -> Locator:
    """Click a link (or a button) that loads a dialog, and wait for the dialog's heading; returns the dialog."""
    link.click()
    loaded = dialog(link.page)
    expect(loaded.get_by_role("heading", name=heading)).to_be_visible()
    return loaded


def submit_company_role(page: Page, role: str, button: str) -> None:
    """Choose `role` (its label) as the open dialog's company role and press `button`."""
    dialog(page).get_by_label("Company role").select_option(label=role)
    dialog(page).get_by_role("button", name=button).click()


def expect_dialog_closed(page: Page) -> None:
    """Success closes the dialog, and closing empties it."""
    expect(dialog(page)).not_to_be_visible()
    expect(dialog(page)).to_be_empty()
