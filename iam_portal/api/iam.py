"""The company IAM endpoints miactl calls (spec §6.2): identities, users, groups, group members and
service accounts of one company.

Every write calls the portal's services with the calling service account as the actor, so the API has the
portal's rules and no others: authorization, the escalation guard, the last owner, all or nothing.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils import timezone
from ninja import Query, Router
from ninja.errors import HttpError

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.access.preview import change_preview
from iam_portal.access.resolver import AccessResolver
from iam_portal.access.services import (
    MAX_UNTIL,
    UNCHANGED,
    company_direct_access_remove,
    roles_edit,
)
from iam_portal.api import schemas, selectors
from iam_portal.api.schemas import Error
from iam_portal.identities.models import ServiceAccount
from iam_portal.identities.services import (
    company_user_add,
    company_user_remove,
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    service_account_create,
    service_account_delete,
)
from iam_portal.orgs.models import Company

router = Router(tags=["Company IAM"])

ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error}
COMPANY = "/companies/{companyId}"
ROLES_UPDATED = "identity roles successfully updated"
PAGINATION = (
    "Every item is returned unless `page` or `per_page` is given; then `page` (zero-based, default 0) of "
    "`per_page` items (default 200, at most 1000), with the headers `x-total-items` and `x-total-pages`."
)
EDIT_RULES = """Changes the identity's company role and/or its roles on projects and environments, all or
nothing (one refusal changes nothing). Body `EditIAMRole`:

- `role`: the new company role (guest, reporter, developer, maintainer, project-admin, company-owner).
  Omitted or `""`: the company role is unchanged.
- `until` (optional, RFC 3339 with an offset, in the future): the roles set by this request end then and
  the role each replaced (or none) holds again; the lists answer each role's `until` (null when lasting).
- `projectsRole[]`: for each `projectId` (the project slug):
  - `role` omitted: the project role is unchanged;
  - `role: ""`: the project role is removed, **unless** `environmentsRole` is sent in the same entry
    (miactl's environment edit sends both): then the project role is unchanged;
  - another `role` sets the project role (guest, reporter, developer, maintainer, project-admin).
  - `environmentsRole[]`: for each `envId`, `role` reporter or maintainer sets it, `""` removes it.
    Environments not listed are unchanged.

A role that is not valid at its level is 400; a project or environment outside the company is 404; the
portal's rules (who may manage identities, the escalation guard, the last Company Owner) answer 403/409.
Answers `{"statusCode": 200, "message": "identity roles successfully updated"}`."""


def access_of(request) -> AccessResolver:
    """One resolver per request for the calling account: its answers live as long as the request."""
    if not hasattr(request, "api_access"):
        request.api_access = AccessResolver(request.auth)
    return request.api_access


def visible_company(request, slug: str) -> Company:
    """The company of the URL if the account can see it (its own company, or company access); else 404."""
    company = selectors.company_by_slug(slug)
    account: ServiceAccount = request.auth
    if company is None or not (
        account.company_id == company.pk or access_of(request).has_company_access(company)
    ):
        raise Http404(f"No company {slug[:80]!r}.")
    return company


def managed_company(request, slug: str) -> Company:
    company = visible_company(request, slug)
    if not access_of(request).can("company.identities.manage", company):
        raise PermissionDenied("This service account may not manage the identities of this company.")
    return company


def checked_role(role: str, level: Level) -> str:
    if not catalogue.is_role_valid_for(role, level):
        allowed = ", ".join(catalogue.ROLES_BY_LEVEL[level])
        raise HttpError(400, f"invalid role for {level}: {role[:64]!r}; use one of {allowed}")
    return role


def checked_name(name: str) -> str:
    if not name.strip():
        raise HttpError(400, "name must not be blank")
    return name


def page_request(page: int | None, per_page: int | None) -> selectors.PageRequest | None:
    if page is None and per_page is None:
        return None
    page = 0 if page is None else page
    per_page = 200 if per_page is None else per_page
    if page < 0 or not 1 <= per_page <= 1000:
        raise HttpError(400, "page must be 0 or more and per_page between 1 and 1000")
    return selectors.PageRequest(page, per_page)


def list_response(items: list, page: selectors.PageRequest | None) -> JsonResponse:
    headers = {}
    if page is not None:
        items, headers = page.cut(items)
    response = JsonResponse(items, safe=False)
    for name, value in headers.items():
        response[name] = value
    return response


def done(message: str, **extra) -> JsonResponse:
    """The acknowledgement of a write. Sent as is: the schemas describe it for the docs."""
    return JsonResponse({"statusCode": 200, "message": message, **extra})


DRY_RUN = (
    " With `dryRun=true` nothing is saved: the answer is what the write would change, "
    '`{"dryRun": true, "changes": [{"identity", "resource", "level", "before", "after", "gained", "lost", '
    '"losesAllAccess"}]}` (per identity it affects, per company, project and environment whose role or '
    "keys would change), and a refusal answers as the write would."
)


def query_flag(value: str | None, name: str) -> bool:
    """A true/false query parameter (true, 1, false, 0; absent or empty: false), or a 400."""
    flag = (value or "false").strip().lower()
    if flag not in ("true", "1", "false", "0"):
        raise HttpError(400, f"{name} must be true or false")
    return flag in ("true", "1")


def write(company: Company, dry_run: str | None, run, answer, *, subjects=(), created=None) -> JsonResponse:
    """Run the write `run` and answer `answer(its result)`; with dryRun=true instead run it dry
    (`access.preview.change_preview`, `subjects` and `created` as there) and answer what it would change.
    The flag is read first: a bad one changes nothing. A refusal answers as the write would."""
    if not query_flag(dry_run, "dryRun"):
        return answer(run())
    preview = change_preview(company=company, subjects=subjects, run=run, created=created)
    if preview.refused is not None:
        raise preview.refused
    return JsonResponse(preview.as_json())


# -- lists -----------------------------------------------------------------------------------------


@router.get(
    COMPANY + "/identities",
    response={200: list[schemas.IAMIdentity], **ERRORS},
    summary="List the company's identities",
    description="Users, groups and service accounts of the company with their direct company roles. "
    "`identityType` (repeatable: user, group, serviceaccount) keeps some kinds. With `projectIds` "
    "(repeatable project slugs) each item's `projects` holds its own roles on those projects and their "
    "environments; every identity of the company is listed (also those whose access is inherited) for "
    "those who may manage the project's identities, and only those with access to it for those who may "
    "only view it. Without `projectIds` this needs the right to manage the company's identities. "
    + PAGINATION,
)
def identities_list(
    request,
    companyId: str,
    identityType: list[str] | None = Query(None),
    projectIds: list[str] | None = Query(None),
    page: int | None = None,
    per_page: int | None = None,
):
    pages = page_request(page, per_page)
    kinds = []
    for value in identityType or []:
        for name in value.split(","):
            kind = selectors.IDENTITY_TYPES.get(name.strip().lower())
            if kind is None:
                raise HttpError(400, f"identityType must be user, group or serviceaccount, not {name[:40]!r}")
            kinds.append(kind)
    kinds = kinds or list(selectors.API_TYPE)
    if not projectIds:
        company = managed_company(request, companyId)
        return list_response(selectors.company_identities(company, kinds=kinds, projects=[]), pages)

    company = visible_company(request, companyId)
    found, missing = selectors.company_projects(company, projectIds)
    access = access_of(request)
    projects = list(found.values())
    if missing or not all(access.can("project.view", p) for p in projects):
        raise Http404(f"No project {(missing or [p.slug for p in projects])[0][:80]!r} in {company.slug}.")
    access_only = not all(access.can("project.identities.manage", p) for p in projects)
    items = selectors.company_identities(
        company, kinds=kinds, projects=projects, with_access_only=access_only
    )
    return list_response(items, pages)


def _managed_list(request, companyId: str, page: int | None, per_page: int | None, select) -> JsonResponse:
    """One kind of the company's identities, for those who manage them (pages checked first: 400 before
    404)."""
    pages = page_request(page, per_page)
    company = managed_company(request, companyId)
    return list_response(select(company), pages)


def _list_get(path: str, schema, kinds: str, description: str):
    return router.get(
        COMPANY + path,
        response={200: list[schema], **ERRORS},
        summary=f"List the company's {kinds}",
        description=description + PAGINATION,
    )


@_list_get(
    "/users",
    schemas.UserIdentity,
    "users",
    "Users with access to the company (a direct role or a group). `companyRoles` lists the direct role only; "
    "`groups` the company groups they belong to. ",
)
def users_list(request, companyId: str, page: int | None = None, per_page: int | None = None):
    return _managed_list(request, companyId, page, per_page, selectors.company_user_identities)


@_list_get("/groups", schemas.GroupIdentity, "groups", "Each group with its company role and its members. ")
def groups_list(request, companyId: str, page: int | None = None, per_page: int | None = None):
    return _managed_list(request, companyId, page, per_page, selectors.company_group_identities)


@_list_get(
    "/service-accounts",
    schemas.ServiceAccountIdentity,
    "service accounts",
    "Client id, name, authentication method, company role and last token issuance. ",
)
def service_accounts_list(request, companyId: str, page: int | None = None, per_page: int | None = None):
    return _managed_list(request, companyId, page, per_page, selectors.company_service_account_identities)


# -- roles -----------------------------------------------------------------------------------------


def _role_plan(company: Company, body: schemas.EditIAMRole) -> tuple[str | None, list]:
    """Validate the whole body before changing anything: (company role or None, [(project, project role
    change, {environment: role or None})]) where the project role change is `...` for "unchanged"."""
    company_role = checked_role(body.role, Level.COMPANY) if body.role else None
    entries = body.projectsRole or []
    found, missing = selectors.company_projects(company, [entry.projectId for entry in entries])
    if missing:
        raise Http404(f"No project {missing[0][:80]!r} in {company.slug}.")
    environments = selectors.project_environments(list(found.values()))
    plan = []
    for entry in entries:
        project = found[entry.projectId]
        if entry.role is None or (entry.role == "" and entry.environmentsRole):
            project_role = UNCHANGED
        else:
            project_role = checked_role(entry.role, Level.PROJECT) if entry.role else None
        environment_roles = {}
        for env_entry in entry.environmentsRole or []:
            environment = environments.get((project.pk, env_entry.envId))
            if environment is None:
                raise Http404(f"No environment {env_entry.envId[:80]!r} in project {project.slug}.")
            environment_roles[environment] = (
                checked_role(env_entry.role, Level.ENVIRONMENT) if env_entry.role else None
            )
        if project_role is UNCHANGED and not environment_roles:
            raise HttpError(400, f"The projectsRole entry for {project.slug} changes nothing.")
        plan.append((project, project_role, environment_roles))
    if company_role is None and not plan:
        raise HttpError(400, "Nothing to change: send role and/or projectsRole.")
    return company_role, plan


def _not_found(kind: str, identifier: str, company: Company):
    return Http404(f"No {kind} {identifier[:80]!r} in company {company.slug}.")


# How each kind of identity is found by its id inside a company.
IDENTITY_LOOKUPS = {
    "user": selectors.company_user,
    "group": selectors.company_group,
    "service account": selectors.company_service_account,
}


def company_identity(request, companyId: str, kind: str, identifier: str):
    """(company, identity of this kind with this id in it); 404 when either is missing."""
    company = visible_company(request, companyId)
    identity = IDENTITY_LOOKUPS[kind](company, identifier)
    if identity is None:
        raise _not_found(kind, identifier, company)
    return company, identity


def _edit_roles(request, companyId: str, kind: str, identifier: str, body: schemas.EditIAMRole, dry_run):
    company, subject = company_identity(request, companyId, kind, identifier)
    company_role, plan = _role_plan(company, body)
    if body.until is not None and not timezone.now() < body.until <= timezone.now() + MAX_UNTIL:
        raise HttpError(400, "until must be in the future, within 10 years")
    return write(
        company,
        dry_run,
        lambda: roles_edit(
            actor=request.auth,
            company=company,
            subject=subject,
            company_role=company_role,
            projects=plan,
            until=body.until,
        ),
        lambda _: done(ROLES_UPDATED),
        subjects=[subject],
    )


def _roles_patch(path: str, kind: str):
    """The route of one kind's role edit: the three kinds share the body, the rules and the answer."""
    return router.patch(
        COMPANY + path,
        response={200: schemas.Done, **ERRORS},
        summary=f"Edit a {kind}'s roles",
        description=EDIT_RULES + DRY_RUN,
    )


@_roles_patch("/users/{userId}", "user")
def user_roles_edit(
    request, companyId: str, userId: str, body: schemas.EditIAMRole, dryRun: str | None = None
):
    return _edit_roles(request, companyId, "user", userId, body, dryRun)


@_roles_patch("/groups/{groupId}", "group")
def group_roles_edit(
    request, companyId: str, groupId: str, body: schemas.EditIAMRole, dryRun: str | None = None
):
    return _edit_roles(request, companyId, "group", groupId, body, dryRun)


@_roles_patch("/service-accounts/{clientId}", "service account")
def service_account_roles_edit(
    request, companyId: str, clientId: str, body: schemas.EditIAMRole, dryRun: str | None = None
):
    return _edit_roles(request, companyId, "service account", clientId, body, dryRun)


# -- users -----------------------------------------------------------------------------------------


@router.post(
    COMPANY + "/users",
    response={200: schemas.Done, **ERRORS},
    summary="Add an existing Console user to the company",
    description="Gives the Console account with this `email` a direct company `role`. Accounts are not "
    "created here: an unknown email is 400 and nothing is added." + DRY_RUN,
)
def user_add(request, companyId: str, body: schemas.UserAdd, dryRun: str | None = None):
    company = visible_company(request, companyId)
    role = checked_role(body.role, Level.COMPANY)
    return write(
        company,
        dryRun,
        lambda: company_user_add(actor=request.auth, company=company, email=body.email, role=role),
        lambda user: done(f"user {user.email} added to {company.slug} company", userId=str(user.pk)),
        created=lambda user: [user],
    )


@router.delete(
    COMPANY + "/users/{userId}",
    response={200: schemas.Done, **ERRORS},
    summary="Remove a user from the company",
    description="With `removeFromGroups=true`: full removal, the user's direct roles on the company, its "
    "projects and environments, and every membership of the company's groups. Without it: the direct "
    "roles only; group memberships stay, so access may remain through groups." + DRY_RUN,
)
def user_remove(
    request, companyId: str, userId: str, removeFromGroups: str | None = None, dryRun: str | None = None
):
    from_groups = query_flag(removeFromGroups, "removeFromGroups")
    company, user = company_identity(request, companyId, "user", userId)
    remove = company_user_remove if from_groups else company_direct_access_remove
    return write(
        company,
        dryRun,
        lambda: remove(actor=request.auth, company=company, user=user),
        lambda _: done(f"user {userId} successfully removed"),
        subjects=[user],
    )


# -- groups ----------------------------------------------------------------------------------------


@router.post(
    COMPANY + "/groups",
    response={200: schemas.Done, **ERRORS},
    summary="Create a group",
    description="A group with a company `role` and optional `members` (emails of existing Console "
    "accounts; one unknown email creates nothing). Answers the new group's `_id`." + DRY_RUN,
)
def group_add(request, companyId: str, body: schemas.GroupCreate, dryRun: str | None = None):
    company = visible_company(request, companyId)
    role = checked_role(body.role, Level.COMPANY)
    name = checked_name(body.name)
    return write(
        company,
        dryRun,
        lambda: group_create(
            actor=request.auth, company=company, name=name, role=role, member_emails=body.members
        ),
        lambda group: done(f"group {group.name} added to {company.slug} company", _id=str(group.pk)),
        created=lambda group: [group, *group.members.order_by("email")],
    )


def _group_of(request, companyId: str, groupId: str):
    return company_identity(request, companyId, "group", groupId)


@router.delete(
    COMPANY + "/groups/{groupId}",
    response={200: schemas.Done, **ERRORS},
    summary="Delete a group",
    description="Deletes the group, its roles and its memberships." + DRY_RUN,
)
def group_remove(request, companyId: str, groupId: str, dryRun: str | None = None):
    company, group = _group_of(request, companyId, groupId)
    return write(
        company,
        dryRun,
        lambda: group_delete(actor=request.auth, group=group),
        lambda _: done(f"group {groupId} successfully removed"),
        subjects=[group],
    )


@router.post(
    COMPANY + "/groups/{groupId}/members",
    response={200: schemas.Done, **ERRORS},
    summary="Add members to a group",
    description="`emails` of existing Console accounts (at least one). One unknown email adds nobody."
    + DRY_RUN,
)
def group_members_post(
    request, companyId: str, groupId: str, body: schemas.GroupMembersAdd, dryRun: str | None = None
):
    company, group = _group_of(request, companyId, groupId)
    return write(
        company,
        dryRun,
        lambda: group_members_add(actor=request.auth, group=group, emails=body.emails),
        lambda _: done("the users have been added to the group"),
        subjects=[group],
    )


@router.delete(
    COMPANY + "/groups/{groupId}/members",
    response={200: schemas.Done, **ERRORS},
    summary="Remove members from a group",
    description='A JSON body `{"memberIds": [userId, …]}` (at least one). All or nothing: an id that is '
    "not a user of the company is 404, one that is not a member of the group 400." + DRY_RUN,
)
def group_members_delete(
    request, companyId: str, groupId: str, body: schemas.GroupMembersRemove, dryRun: str | None = None
):
    company, group = _group_of(request, companyId, groupId)
    users, missing = selectors.company_users_by_id(company, body.memberIds)
    if missing:
        raise _not_found("user", missing[0], company)
    return write(
        company,
        dryRun,
        lambda: group_members_remove(actor=request.auth, group=group, users=users),
        lambda _: done("the users have been removed from the group"),
        subjects=users,
    )


# -- service accounts ------------------------------------------------------------------------------


@router.post(
    COMPANY + "/service-accounts",
    response={200: schemas.BasicServiceAccountCreated | schemas.JWTServiceAccountCreated, **ERRORS},
    summary="Create a service account",
    description="`tokenEndpointAuthMethod` client_secret_basic answers `{clientId, clientSecret, "
    "clientIdIssuedAt, company}`: the secret is shown this once and only its SHA-256 is kept. "
    "private_key_jwt needs `publicKey`, an RSA public key (2048 bits or more) as a JWK object (its `kid` is "
    "kept; without one the RFC 7638 thumbprint is the key id) or a PEM string, and answers "
    "`{clientId, clientIdIssuedAt}`." + DRY_RUN,
)
def service_account_add(
    request, companyId: str, body: schemas.ServiceAccountCreate, dryRun: str | None = None
):
    company = visible_company(request, companyId)
    role = checked_role(body.role, Level.COMPANY)
    jwt_method = body.tokenEndpointAuthMethod == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT
    if jwt_method and body.publicKey is None:
        raise HttpError(400, "publicKey is required for private_key_jwt")
    if not jwt_method and body.publicKey is not None:
        raise HttpError(400, "publicKey is only for private_key_jwt")
    public_key = body.publicKey or ""
    if isinstance(public_key, schemas.PublicJWK):
        public_key = json.dumps(public_key.model_dump(exclude_none=True))
    name = checked_name(body.name)
    return write(
        company,
        dryRun,
        lambda: service_account_create(
            actor=request.auth,
            company=company,
            name=name,
            role=role,
            auth_method=body.tokenEndpointAuthMethod,
            public_key=public_key,
        ),
        lambda created: _account_created(company, created, jwt_method),
        created=lambda created: [created.account],
    )


def _account_created(company: Company, created, jwt_method: bool) -> JsonResponse:
    account = created.account
    issued_at = int(account.created_at.timestamp())
    if jwt_method:
        return JsonResponse({"clientId": account.client_id, "clientIdIssuedAt": issued_at})
    response = JsonResponse(
        {
            "clientId": account.client_id,
            "clientSecret": created.client_secret,
            "clientIdIssuedAt": issued_at,
            "company": company.slug,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@router.delete(
    COMPANY + "/service-accounts/{clientId}",
    response={200: schemas.Done, **ERRORS},
    summary="Delete a service account",
    description="Deletes the account and its roles; its access tokens stop working at once." + DRY_RUN,
)
def service_account_remove(request, companyId: str, clientId: str, dryRun: str | None = None):
    company, account = company_identity(request, companyId, "service account", clientId)
    return write(
        company,
        dryRun,
        lambda: service_account_delete(actor=request.auth, account=account),
        lambda _: done(f"service account {clientId} successfully removed"),
        subjects=[account],
    )
