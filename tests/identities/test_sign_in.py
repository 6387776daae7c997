"""Sign-in and sign-out: email and password, case-insensitive email, `next`, inactive accounts, POST-only
sign-out."""

from iam_portal.identities.models import User

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
ACME = "/companies/acme/"


def test_login_page_renders_a_labelled_form(db, client):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Sign in</h1>" in html
    assert '<label for="id_username">Email</label>' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert '<label for="id_password">Password</label>' in html
    assert "csrfmiddlewaretoken" in html


def test_sign_in_with_email_and_password_lands_on_the_only_company(demo, client):
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": demo.password}, follow=True)
    assert response.redirect_chain == [("/", 302), (ACME, 302)]
    assert response.status_code == 200
    assert response.wsgi_request.user.email == "owner@acme.test"
    assert "<h1>Acme</h1>" in response.content.decode()


def test_sign_in_email_is_case_insensitive_and_honours_next(demo, client):
    response = client.post(
        LOGIN, {"username": "OWNER@Acme.TEST", "password": demo.password, "next": "/companies/acme/iam/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/companies/acme/iam/"


def test_wrong_password_is_refused(demo, client):
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert client.get("/").status_code == 302


def test_inactive_account_cannot_sign_in(demo, client):
    User.objects.filter(email="owner@acme.test").update(is_active=False)
    response = client.post(LOGIN, {"username": "owner@acme.test", "password": demo.password})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_login_never_redirects_off_site(demo, client):
    response = client.post(
        LOGIN, {"username": "owner@acme.test", "password": demo.password, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_logout_is_post_only(demo, login):
    client = login("owner")
    assert client.get(LOGOUT).status_code == 405
    assert client.get("/").status_code == 302  # still signed in: redirected to the company
    assert client.get(ACME).status_code == 200
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get(ACME)["Location"] == f"{LOGIN}?next={ACME}"


def test_pages_offer_a_sign_out_form(demo, login):
    html = login("owner").get(ACME).content.decode()
    assert '<form method="post" action="/accounts/logout/"' in html
