"""Plain helpers shared by the tests (fixtures live in the conftests, and nothing imports a conftest).

- responses: HX, hx_trigger, messages_of, row_html, count_queries, options, this_is_you, submit_disabled,
  assert_form_refused, assert_csrf_refused
- the database: bind, snapshot ("nothing changed"), changes_nothing, company_roles
- personas and authorization matrices: Persona and the persona sets, assert_access_matrix, and the two
  tables most pages share (may_manage_company / assert_company_matrix, project_matrix)
- keys: rsa_private_key, public_pem, private_pem, public_jwk
- the machine API: TOKEN_URL, Credentials, basic_header, assertion, assertion_form, Api, error
- the admin: admin_url, form_data, add_inline_row, no_inline_rows, MODELS, an_object
- sign-in: PORTAL, provider_settings, sso_sign_in (with the test OpenID provider of tests/oidc)
- every page and dialog of the portal: PORTAL_PAGES, TABLE_PAGES, PORTAL_DIALOGS, portal_url; parse_html
- the browser: dialog, open_dialog, submit_company_role, expect_dialog_closed
- the audit log: events_since, the_event
- previews: previewed, preview_lines, preview_refusal
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote, quote_plus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from jwt.algorithms import RSAAlgorithm
from playwright.sync_api import Locator, Page, expect

from iam_portal.access.catalogue import (
    COMPANY_OWNER,
    DEVELOPER,
    GUEST,
    MAINTAINER,
    PROJECT_ADMIN,
    REPORTER,
    ROLES,
)
from iam_portal.access.models import RoleBinding
from iam_portal.access.services import project_roles_set
from iam_portal.audit.models import AuditEvent
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, FeatureToggle, Project, ProjectTemplate
from iam_portal.signin.config import oidc_providers_from_env
from tests.oidc import server as oidc

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


# What the first table page after a change of a company's users costs on top of the steady page: reading the
# kept user count, counting again, the first time-limited grant to end, keeping the count (access.counts).
RECOUNT = 3


def count_queries(client, url: str, params=None, **headers) -> int:
    """How many queries one successful GET of `url` costs."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params, headers=headers)
    assert response.status_code == 200
    return len(queries)


def options(html: str, name: str) -> dict[str, str]:
    """{value: "Role", "Role (note)" or "Role [disabled]"} of the <select name=…> in the html: each option's
    role name and note, without what the role allows (the text after " — ")."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    found = {}
    for value, attrs, label in re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select):
        found[value] = label.partition(" — ")[0] + (" [disabled]" if "disabled" in attrs else "")
    return found


def this_is_you(html: str) -> str:
    """The words of a dialog's "This is you." warning ("" when it has none)."""
    match = re.search(r'<div class="callout callout-danger this-is-you"[^>]*><p>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def submit_disabled(html: str) -> bool:
    """Whether the dialog's (danger) submit button is disabled."""
    return bool(re.search(r'<button type="submit" class="danger" disabled>', html))


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


def set_project_role(actor, project, subject, role: str | None, environments: dict | None = None):
    """`subject`'s role on `project` (and on `environments`: {environment: role}) set by `actor` through the
    portal's service: checked and recorded in the audit log like a change made in the portal."""
    return project_roles_set(
        actor=actor, project=project, subject=subject, project_role=role, environment_roles=environments or {}
    )


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
            full_name=full_name or f"{str(self)[:190]} {n}",  # the column holds 200 characters
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


def project_matrix(*, none: int, view: int, edit: int, add: int) -> dict[Persona, int]:
    """Every persona of the project matrix and its status, by its level (PROJECT_LEVELS): `none` without
    access to the project, `view` who may only view it, `edit` who may manage its identities, `add` who may
    also add identities to the company."""
    statuses = {NONE: none, VIEW: view, EDIT: edit, ADD: add}
    return {**{who: statuses[level] for who, level in PROJECT_LEVELS.items()}, **PROJECT_STRANGERS}


# -- the authorization matrix ---------------------------------------------------------------------

LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
DENIAL_STATUSES = (403, 404, 405)


def assert_access_matrix(
    persona: Callable[[Persona], User | None],
    expected: Mapping[Persona, int | str],
    *,
    get: str | Callable[[User | None], str] | None = None,
    post: str | None = None,
    data: dict | None = None,
    headers: dict | None = None,
    call: Callable[[User | None], object] | None = None,
    then: Callable[[Persona, object], None] | None = None,
) -> None:
    """Run one request (get= or post= a URL, with data and headers; get= may also be a function of the
    persona's user that returns the URL, for pages about oneself) or one service call (call(actor)) as
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
                url = get(user) if callable(get) else get
                result = _request_as(user, url, post, data, headers or {})
                outcome, denied = _outcome(result, user, url or post)
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


# -- the machine API ------------------------------------------------------------------------------

TOKEN_URL = "/api/m2m/oauth/token"
FORM = "application/x-www-form-urlencoded"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk(key: rsa.RSAPrivateKey, kid: str = "miactl") -> dict:
    """The JWK miactl uploads (note its `alg`, spelled RSA256)."""
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"kty": "RSA", "use": "sig", "alg": "RSA256", "kid": kid, "n": jwk["n"], "e": jwk["e"]}


@dataclass
class Credentials:
    account: ServiceAccount
    secret: str = ""
    key: rsa.RSAPrivateKey | None = None

    @property
    def client_id(self) -> str:
        return self.account.client_id


def api_body_endpoints(demo, account) -> list[tuple[str, str]]:
    """The machine API's endpoints that read a JSON body, as (method, path) on the demo's Acme; `account` is
    the service account whose roles are edited."""
    acme, user, group = "/api/companies/acme", demo.user("junior1").pk, demo.developers.pk
    return [
        ("POST", f"{acme}/users"),
        ("PATCH", f"{acme}/users/{user}"),
        ("POST", f"{acme}/groups"),
        ("PATCH", f"{acme}/groups/{group}"),
        ("POST", f"{acme}/groups/{group}/members"),
        ("DELETE", f"{acme}/groups/{group}/members"),
        ("POST", f"{acme}/service-accounts"),
        ("PATCH", f"{acme}/service-accounts/{account.client_id}"),
        ("POST", "/api/authz/check"),
    ]


def basic_header(client_id: str, secret: str) -> str:
    """What Go's oauth2 sends with AuthStyleInHeader: each part form-urlencoded, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def assertion(credentials: Credentials, **overrides) -> str:
    """A client assertion as miactl signs it (iat 10 s in the past, exp an hour after); overrides change
    claims (None removes one), and `_kid`, `_key`, `_alg` the header and the signing key."""
    now = int(time.time()) - 10
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.client_id,
        "aud": "console-client-credentials",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 3600,
    }
    kid = overrides.pop("_kid", credentials.account.key_id)
    key = overrides.pop("_key", credentials.key)
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def assertion_form(signed: str, client_id: str | None = None) -> str:
    fields = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "token_endpoint_auth_method": "private_key_jwt",
    }
    if client_id is not None:
        fields["client_id"] = client_id
    return "&".join(f"{k}={quote_plus(v)}" for k, v in fields.items())


class Api:
    """A test client for the API: JSON bodies, Bearer tokens, miactl's headers."""

    def __init__(self):
        self.client = Client(enforce_csrf_checks=True)

    def token_response(self, credentials: Credentials, **headers):
        if credentials.account.auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT:
            body = assertion_form(assertion(credentials), credentials.client_id)
            return self.client.post(TOKEN_URL, body, content_type=FORM, **headers)
        return self.client.post(
            TOKEN_URL,
            "grant_type=client_credentials",
            content_type=FORM,
            HTTP_AUTHORIZATION=basic_header(credentials.client_id, credentials.secret),
            **headers,
        )

    def token(self, credentials: Credentials) -> str:
        response = self.token_response(credentials)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    def call(self, method: str, path: str, body=None, *, token: str | None = None, **extra):
        headers = {"HTTP_CLIENT_KEY": "miactl", "HTTP_ACCEPT": "application/json, */*"}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        headers.update(extra)
        if method in ("GET", "HEAD"):
            return getattr(self.client, method.lower())(path, **headers)
        data = body if isinstance(body, str | bytes) else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method.lower())(path, data, content_type="application/json", **headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)


def error(response) -> dict:
    """The error body, after checking its shape: {"statusCode": <the status>, "message": "<non-empty>"}."""
    body = response.json()
    assert set(body) == {"statusCode", "message"}, body
    assert body["statusCode"] == response.status_code
    assert isinstance(body["message"], str) and body["message"].strip()
    return body


# -- sign-in through the test OpenID provider (tests/oidc) ----------------------------------------------

PORTAL = "http://testserver"  # the Django test client's host: the redirect URIs registered at the provider


def provider_settings(**overrides) -> list[dict]:
    """settings.OIDC_PROVIDERS as the environment would give it (through the real parser)."""
    entry = {
        "id": "test",
        "name": "Test IdP",
        "client_id": oidc.CLIENT_ID,
        "scopes": ["openid", "email", "profile", "groups"],
        **overrides,
    }
    return oidc_providers_from_env(json.dumps([entry]), lambda name: oidc.CLIENT_SECRET)


def sso_sign_in(client, provider, sub: str, *, next_url: str | None = None, provider_id: str = "test"):
    """The whole redirect flow: the portal's button, the provider's sign-in page as `sub`, and the callback.
    Returns the portal's answer to the callback."""
    start = client.post(f"/accounts/oidc/{provider_id}/login/", {"next": next_url} if next_url else {})
    assert start.status_code == 302, start.content.decode()[:2000]
    callback = provider.authorize(start["Location"], sub)
    assert callback.startswith(f"{PORTAL}/accounts/oidc/{provider_id}/login/callback/"), callback
    return client.get(callback)


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


def inline_row(data: dict, field: str, obj) -> str:
    """The prefix ("role_bindings-2") of the inline row of form_data() whose `field` holds `obj`."""
    return next(
        key.rsplit("-", 1)[0]
        for key, value in data.items()
        if key.endswith(f"-{field}") and value == str(obj.pk)
    )


def no_inline_rows(*prefixes: str) -> dict:
    """Management data for empty inline formsets on an add page."""
    data = {}
    for prefix in prefixes:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


# -- every page and dialog of the portal -----------------------------------------------------------
# As the demo's Company Owner (owner@acme.test) sees them: the pages the site-wide checks (history restore,
# help texts, headings, axe-core) walk through. A new page or dialog belongs here. portal_url() fills in
# the demo's ids: {group} Acme Developers, {junior} junior1@acme.test, {deployer} the ci-deployer account,
# {reader} the metrics-reader account, {owner} owner@acme.test.

TABLE_PAGES = {  # the pages that also serve their table as an htmx partial
    "IAM": "/companies/acme/iam/",
    "Users": "/companies/acme/users/",
    "Groups": "/companies/acme/groups/",
    "group detail": "/companies/acme/groups/{group}/",
    "Service accounts": "/companies/acme/service-accounts/",
    "Project IAM": "/companies/acme/projects/webshop/iam/",
}
PORTAL_PAGES = {
    "company overview": "/companies/acme/",
    "project overview": "/companies/acme/projects/webshop/",
    **TABLE_PAGES,
    "Project IAM, with rows of identities that cannot reach the project": "/companies/acme/projects/payments/iam/",
    "access of a user": "/companies/acme/access/user/{junior}/",
    "access of a user, with a why answer": (
        "/companies/acme/access/user/{junior}/?permission=environment.deploy&resource=acme/webshop/staging"
    ),
    "access of a group": "/companies/acme/access/group/{group}/",
    "access of a service account": "/companies/acme/access/service-account/{deployer}/",
    "my access": "/companies/acme/access/user/{owner}/",
    "company audit log": "/companies/acme/audit-log/",
    "company audit log, filtered": "/companies/acme/audit-log/?action=role.granted&outcome=success",
    "history of a user": "/companies/acme/audit-log/?identity=user:{junior}",
    "project audit log": "/companies/acme/projects/webshop/audit-log/",
}
PORTAL_DIALOGS = {  # each also opens as a full page
    "add user": "/companies/acme/users/add/",
    "remove user": "/companies/acme/users/{junior}/remove/",
    "edit company role of a user": "/companies/acme/iam/user/{junior}/edit/",
    "edit company role of a group": "/companies/acme/iam/group/{group}/edit/",
    "edit company role of a service account": "/companies/acme/iam/service-account/{deployer}/edit/",
    "remove direct access": "/companies/acme/iam/user/{junior}/remove/",
    "create group": "/companies/acme/groups/create/",
    "edit group": "/companies/acme/groups/{group}/edit/",
    "add members": "/companies/acme/groups/{group}/members/add/",
    "remove member": "/companies/acme/groups/{group}/members/{junior}/remove/",
    "delete group": "/companies/acme/groups/{group}/delete/",
    "add service account": "/companies/acme/service-accounts/add/",
    "delete service account": "/companies/acme/service-accounts/{deployer}/delete/",
    "replace the key of a service account": "/companies/acme/service-accounts/{deployer}/credentials/",
    "rotate the secret of a service account": "/companies/acme/service-accounts/{reader}/credentials/",
    "add user to a project": "/companies/acme/projects/webshop/iam/users/add/",
    "add service account to a project": "/companies/acme/projects/webshop/iam/service-accounts/add/",
    "edit project roles of a user": "/companies/acme/projects/webshop/iam/user/{junior}/edit/",
    "edit project roles of a group": "/companies/acme/projects/webshop/iam/group/{group}/edit/",
    "edit project roles of a service account": "/companies/acme/projects/webshop/iam/service-account/{deployer}/edit/",
    # What a dialog says before saving: the last owner (roles and Remove disabled), an existing member's roles.
    "edit company role of the last owner": "/companies/acme/iam/user/{owner}/edit/",
    "remove direct access of the last owner": "/companies/acme/iam/user/{owner}/remove/",
    "project roles offered to an existing member": (
        "/companies/acme/projects/webshop/iam/user/{designer}/edit/?offered=1&project_role=maintainer"
    ),
}


def portal_url(demo, template: str) -> str:
    """A URL of PORTAL_PAGES / PORTAL_DIALOGS with the demo's ids filled in."""
    return template.format(
        group=demo.developers.pk,
        junior=demo.user("junior1").pk,
        owner=demo.user("owner").pk,
        designer=demo.user("designer1").pk,
        deployer=demo.deployer.pk,
        reader=demo.reader.pk,
    )


@dataclass(eq=False)
class Element:
    """One element of a parsed page: its tag, attributes and the elements it sits in (outermost first)."""

    tag: str
    attrs: dict
    parents: tuple = ()
    text: list = field(default_factory=list)

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()

    def inside(self, other: Element) -> bool:
        return other in self.parents


VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


def parse_html(html: str) -> list[Element]:
    """Every element of `html` in document order (the standard library's parser, no dependency)."""

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.elements: list[Element] = []
            self.open: list[Element] = []

        def handle_starttag(self, tag, attrs):
            element = Element(tag, {name: value or "" for name, value in attrs}, tuple(self.open))
            self.elements.append(element)
            if tag not in VOID_TAGS:
                self.open.append(element)

        def handle_endtag(self, tag):
            for index in range(len(self.open) - 1, -1, -1):
                if self.open[index].tag == tag:
                    del self.open[index:]
                    break

        def handle_data(self, data):
            for element in self.open:
                element.text.append(data)

    parser = Parser()
    parser.feed(html)
    return parser.elements


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


# -- what a change would do (the dialogs' "What this changes") -------------------------------------------


def previewed(client, url: str, data: dict | None = None):
    """A dialog's preview as the browser asks for it: a removal dialog opening (GET), or with `data` the
    form posted with preview=1 (htmx). Checks that nothing changed and nothing was recorded."""
    before, events = snapshot(), AuditEvent.objects.count()
    if data is None:
        response = client.get(url, headers=HX)
    else:
        response = client.post(url, {**data, "preview": "1"}, headers=HX)
    assert snapshot() == before
    assert AuditEvent.objects.count() == events
    return response


def preview_lines(response) -> list[str]:
    """The lines of a dialog's preview (a response or its html) as a person reads them, the permission
    counts kept and the keys folded away: ["Jun One: Developer → Maintainer on acme (+ 4 permissions)"]."""
    page = response if isinstance(response, str) else response.content.decode()
    html = re.sub(r"<details><summary>(.*?)</summary>.*?</details>", r" \1", page, flags=re.S)
    found = re.search(r'<ul class="preview-list">(.*?)</ul>', html, re.S)
    if found is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()) for item in items]


def preview_refusal(response) -> str:
    """The refusal a preview shows instead of changes ("" when none)."""
    page = response if isinstance(response, str) else response.content.decode()
    found = re.search(r'<p class="preview-refused"><strong>[^<]*</strong> (.*?)</p>', page, re.S)
    return unescape(found.group(1).strip()) if found else ""


# -- the browser ----------------------------------------------------------------------------------


def dialog(page: Page) -> Locator:
    """The one <dialog> of base.html that every htmx dialog loads into."""
    return page.locator("#dialog")


def open_dialog(link: Locator, heading: str) -> Locator:
    """Click a link (or a button) that loads a dialog, and wait for the dialog's heading; returns the dialog."""
    link.click()
    loaded = dialog(link.page)
    expect(loaded.get_by_role("heading", name=heading)).to_be_visible()
    expect_settled(link.page)
    return loaded


def expect_settled(page: Page) -> None:
    """htmx shows swapped content at once but binds its triggers (a select's live preview, a role picker's
    summary) only when it settles, 20 ms later, and a request may still be on its way: a test is faster than a
    person, so wait until nothing is in flight before typing into what was swapped in."""
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)


def submit_company_role(page: Page, role: str, button: str) -> None:
    """Choose `role` (its label) as the open dialog's company role and press `button`."""
    # Options read "Reporter — as Guest, and …" (what the role allows): pick by the role's id.
    [role_id] = [r.id for r in ROLES.values() if r.label == role]
    dialog(page).get_by_label("Company role").select_option(role_id)
    dialog(page).get_by_role("button", name=button).click()


def expect_dialog_closed(page: Page) -> None:
    """Success closes the dialog, and closing empties it."""
    expect(dialog(page)).not_to_be_visible()
    expect(dialog(page)).to_be_empty()


def sign_in(page: Page, live_server, email: str, password: str = DEMO_PASSWORD) -> Page:
    """Sign in through the real login form and wait until the portal has landed somewhere else."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


# -- the benchmark's smoke tests (tests/orgs/test_scale.py, tests/audit/test_bench.py) -------------------

TINY_SCALE = [
    "--users",
    "30",
    "--groups",
    "5",
    "--service-accounts",
    "3",
    "--projects",
    "2",
    "--environments",
    "2",
]
TINY_SCALE += ["--bindings", "120"]


def bench(*args: str) -> str:
    """`python -m bench ARGS`, in this process; what it printed."""
    from bench.__main__ import dispatch

    out = io.StringIO()
    dispatch(list(args), stdout=out)
    return out.getvalue()


def seed_scale(company: str = "tiny", *extra: str) -> str:
    """Tiny scale data in `company` (`extra`: more seed_scale options)."""
    return bench("seed_scale", "--company", company, *TINY_SCALE, *extra)


def bench_in_process(small_company: str) -> str:
    """The report of a whole benchmark run against the company "tiny", in this process and cut short: it
    shows that every measurement runs, not how fast."""
    options = (
        f"--in-process --company tiny --small-company {small_company} --max-requests 1 --seconds 0.2 "
        "--warmup 0 --duration 0.2 --iterations 20 --deep 2 --search user-1"
    )
    return bench("run", *options.split())
