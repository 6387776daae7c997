"""`GET /api/me` (who is calling) and `POST /api/authz/check` (may this identity do that there?), the
`explain` command over HTTP: same parsing, same resolver, no cache."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja import Router

from iam_portal.access import catalogue
from iam_portal.access.lookups import UnknownName, check_key, find_identity, find_resource
from iam_portal.access.resolver import AccessResolver
from iam_portal.api import schemas
from iam_portal.api.iam import ERRORS, access_of
from iam_portal.api.selectors import rfc3339
from iam_portal.orgs.models import Company, Environment, Project

router = Router(tags=["Decisions"])


@router.get(
    "/me",
    response={200: schemas.Me, 401: schemas.Error},
    summary="The calling service account",
    description="Its client id, name, authentication method, company (slug) and effective company role; "
    "root service accounts have no company and list their root permission keys. A cheap way for a script "
    "to check its credentials.",
)
def me(request):
    account = request.auth
    company = account.company if account.company_id else None
    return {
        "clientId": account.client_id,
        "name": account.name,
        "authMethod": account.auth_method,
        "company": company.slug if company else None,
        "role": access_of(request).role_on(company) if company else None,
        "rootPermissions": sorted(
            k for k in account.root_permissions or [] if k in catalogue.ROOT_PERMISSIONS
        ),
        "lastLogin": rfc3339(account.last_login),
    }


def _company_of(resource: Company | Project | Environment) -> Company:
    if isinstance(resource, Environment):
        return resource.project.company
    if isinstance(resource, Project):
        return resource.company
    return resource


@router.post(
    "/authz/check",
    response={200: schemas.AuthzDecision, **ERRORS},
    summary="May this identity do that here?",
    description="`identity` is a user's email, a service account's clientId or group:<company>/<group name>; "
    "`resource` is <company>, <company>/<project> or <company>/<project>/<env>; `permission` a permission "
    "key. Answers `allowed` and the `paths` (bindings) that grant it, as `manage.py explain` does. A service "
    "account may ask about itself; about other identities only if it may manage the identities of the "
    "resource's company (or holds the root key console.root.view or console.root.user.bind). A malformed "
    "value is 400; an unknown identity, or a resource the account cannot see, is 404.",
)
def authz_check(request, body: schemas.AuthzCheck):
    account = request.auth
    access = access_of(request)
    key = check_key(body.permission)
    resource = find_resource(body.resource)
    company = _company_of(resource)
    if not (account.company_id == company.pk or access.has_company_access(company)):
        raise UnknownName(f"unknown resource {body.resource!r}")
    if body.identity == account.client_id:
        identity = account
    elif access.can("company.identities.manage", company) or "console.root.view" in access.root_keys:
        identity = find_identity(body.identity)
    else:
        raise PermissionDenied(
            "A service account may ask about itself only, unless it may manage the identities of the "
            "resource's company."
        )
    paths = AccessResolver(identity).permissions(resource).get(key, [])
    return {"allowed": bool(paths), "paths": paths}
