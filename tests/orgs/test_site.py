"""What every page of the site shares: /healthz and the security headers (CSP without inline script)."""

import re

import pytest

LOGIN = "/accounts/login/"
ACME = "/companies/acme/"


def test_healthz(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]


# -- security headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LOGIN, ACME, "/companies/acme/iam/"])
def test_security_headers(demo, login, client, url):
    response = (client if url == LOGIN else login("owner")).get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = {
        part.strip().split()[0]: part.strip().split()[1:] for part in csp.split(";") if part.strip()
    }
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_and_configure_htmx_by_meta(demo, login):
    html = login("owner").get("/companies/acme/iam/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert '<meta name="htmx-config"' in html
    assert '"allowEval":false' in html and '"selfRequestsOnly":true' in html
    assert "X-CSRFToken" in html  # the CSRF header for htmx on <body>
    assert "cdn" not in html.lower()
