"""Service accounts in a real browser, as owner@acme.test: Client Secret Basic shows the secret exactly once
(copied from the result dialog, nowhere afterwards); Private Key JWT takes a PEM public key and shows its
key id; and deleting an account."""

from playwright.sync_api import expect

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import ServiceAccount, hash_secret
from tests.helpers import dialog, expect_dialog_closed, open_dialog, public_pem, rsa_private_key

OWNER = "owner@acme.test"


def test_client_secret_is_shown_once(signed_in, url, live_server, demo):
    page = signed_in(OWNER)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(url("/companies/acme/service-accounts/"))
    expect(page.locator(f"#service-account-{demo.reader.pk}")).to_contain_text("Client Secret Basic")

    open_dialog(page.get_by_role("link", name="Add service account"), "Add service account")
    dialog(page).get_by_label("Name").fill("billing-exporter")
    dialog(page).get_by_label("Company role").select_option("reporter")
    expect(dialog(page).get_by_label("Client Secret Basic")).to_be_checked()
    expect(dialog(page).get_by_label("Public key")).to_be_hidden()
    dialog(page).get_by_role("button", name="Add service account").click()

    expect(dialog(page).get_by_role("heading", name="Service account created")).to_be_visible()
    expect(dialog(page).get_by_role("alert")).to_contain_text("only time it is shown")
    account = ServiceAccount.objects.get(company=demo.acme, name="billing-exporter")
    expect(dialog(page).get_by_label("Client id", exact=True)).to_have_value(account.client_id)
    secret = dialog(page).get_by_label("Client secret", exact=True).input_value()
    assert len(secret) >= 32
    dialog(page).get_by_role("button", name="Copy the client secret").click()
    expect(dialog(page).get_by_role("button", name="Copy the client secret")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert account.secret_hash == hash_secret(secret)
    assert RoleBinding.objects.get(service_account=account, company=demo.acme).role == "reporter"
    # The table behind the dialog already lists the account.
    expect(page.locator("#messages")).to_contain_text("Service account billing-exporter was created.")
    row = page.locator(f"#service-account-{account.pk}")
    expect(row).to_contain_text(account.client_id)
    expect(row).to_contain_text("Client Secret Basic")
    expect(row.locator(".role")).to_have_text("Reporter")

    dialog(page).get_by_role("link", name="Done").click()
    expect_dialog_closed(page)
    assert secret not in page.content()

    # Never again: not on the reloaded list, the IAM table, or the account's delete dialog.
    page.reload()
    expect(row).to_be_visible()
    assert secret not in page.content()
    page.goto(url("/companies/acme/iam/"))
    expect(page.locator(f"#identity-service-account-{account.pk}")).to_be_visible()
    assert secret not in page.content()

    # Delete it: the confirm dialog says it is permanent and lists the roles lost.
    page.go_back()
    open_dialog(row.get_by_role("link", name="Delete"), "Delete service account")
    expect(dialog(page)).to_contain_text("permanent")
    expect(dialog(page).locator(".consequences")).to_contain_text("Reporter")
    assert secret not in page.content()
    dialog(page).get_by_role("button", name="Delete").click()
    expect_dialog_closed(page)
    expect(page.locator("#messages")).to_contain_text("Service account billing-exporter was deleted.")
    expect(row).to_have_count(0)
    assert not ServiceAccount.objects.filter(pk=account.pk).exists()


def test_private_key_jwt_with_a_pem_key_shows_the_key_id(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/service-accounts/"))
    page.get_by_role("link", name="Add service account").click()
    dialog(page).get_by_label("Name").fill("release-bot")
    dialog(page).get_by_label("Company role").select_option("maintainer")
    dialog(page).get_by_label("Private Key JWT").check()
    expect(dialog(page).get_by_label("Public key")).to_be_visible()

    # A malformed key is refused in place; nothing is created.
    dialog(page).get_by_label("Public key").fill(
        "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"
    )
    dialog(page).get_by_role("button", name="Add service account").click()
    expect(dialog(page).locator(".field-public_key .error")).to_be_visible()
    assert not ServiceAccount.objects.filter(name="release-bot").exists()

    dialog(page).get_by_label("Public key").fill(public_pem(rsa_private_key()))
    open_dialog(dialog(page).get_by_role("button", name="Add service account"), "Service account created")
    account = ServiceAccount.objects.get(company=demo.acme, name="release-bot")
    assert account.auth_method == ServiceAccount.AuthMethod.PRIVATE_KEY_JWT
    assert account.key_id
    assert not account.secret_hash
    expect(dialog(page).get_by_label("Client id", exact=True)).to_have_value(account.client_id)
    expect(dialog(page).get_by_label("Key id", exact=True)).to_have_value(account.key_id)
    expect(dialog(page).get_by_label("Client secret", exact=True)).to_have_count(0)

    dialog(page).get_by_role("link", name="Done").click()
    expect_dialog_closed(page)
    row = page.locator(f"#service-account-{account.pk}")
    expect(row).to_contain_text("Private Key JWT")
    expect(row.locator(".role")).to_have_text("Maintainer")
