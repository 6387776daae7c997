"""The OpenAPI document at /api/openapi.json and its page at /api/docs."""

import pytest

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/m2m/oauth/token": {"post"},
    "/api/companies/{companyId}/identities": {"get"},
    "/api/companies/{companyId}/users": {"get", "post"},
    "/api/companies/{companyId}/users/{userId}": {"patch", "delete"},
    "/api/companies/{companyId}/groups": {"get", "post"},
    "/api/companies/{companyId}/groups/{groupId}": {"patch", "delete"},
    "/api/companies/{companyId}/groups/{groupId}/members": {"post", "delete"},
    "/api/companies/{companyId}/service-accounts": {"get", "post"},
    "/api/companies/{companyId}/service-accounts/{clientId}": {"patch", "delete"},
    "/api/me": {"get"},
    "/api/authz/check": {"post"},
    "/api/tenants/{companyId}/audit-logs": {"get"},
}


def test_openapi_lists_every_endpoint(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert {path: set(methods) for path, methods in document["paths"].items()} == PATHS
    assert document["components"]["securitySchemes"]["ServiceAccountBearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert "security" not in document["paths"]["/api/m2m/oauth/token"]["post"]


def test_the_patch_rules_are_documented(client):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/companies/{companyId}/users/{userId}"][
        "patch"
    ]
    description = operation["description"]
    assert '`role: ""`: the project role is removed, **unless** `environmentsRole` is sent' in description
    assert "Environments not listed are unchanged" in description
    assert "all or\nnothing" in description


def test_the_docs_page_uses_local_files_only(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
