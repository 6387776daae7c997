"""manage.py create_service_account: the operator's bootstrap for automation."""

import io
import json

import pytest
from django.core.management import call_command

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import ServiceAccount, hash_secret
from tests.helpers import Credentials, public_jwk, public_pem, snapshot

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("create_service_account", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


# A key-pair account; the key file's path comes next.
JWT = ["--auth-method", "private_key_jwt", "--public-key"]
DEPLOYER = ["--company", "acme", "--name", "deployer", "--role", "developer", *JWT]


def test_basic_account_prints_the_secret_once(demo, api):
    code, out, err = run("--company", "acme", "--name", "ci", "--role", "maintainer")
    assert (code, err) == (0, "")
    account = ServiceAccount.objects.get(company=demo.acme, name="ci")
    lines = out.splitlines()
    assert lines[0] == "Service account ci created in acme."
    assert lines[1] == f"Client ID: {account.client_id}"
    secret = lines[2].removeprefix("Client Secret: ")
    assert account.secret_hash == hash_secret(secret)
    assert "cannot be shown again" in lines[3]
    assert RoleBinding.objects.get(service_account=account).role == "maintainer"
    assert (account.created_by, account.auth_method) == (None, "client_secret_basic")
    assert api.token(Credentials(account, secret=secret))


def test_json_output(demo):
    code, out, _ = run("--company", "acme", "--name", "ci", "--role", "reporter", "--json")
    payload = json.loads(out)
    assert code == 0
    assert set(payload) == {"clientId", "clientSecret"}
    assert ServiceAccount.objects.get(client_id=payload["clientId"]).secret_hash == hash_secret(
        payload["clientSecret"]
    )


@pytest.mark.parametrize("shape", ["pem", "jwk"])
def test_jwt_account_from_a_key_file(demo, api, keys, tmp_path, shape):
    key_file = tmp_path / "key"
    key_file.write_text(
        public_pem(keys[2]) if shape == "pem" else json.dumps(public_jwk(keys[2], kid="ops-key"))
    )
    code, out, _ = run(*DEPLOYER, str(key_file), "--json")
    assert code == 0
    payload = json.loads(out)
    account = ServiceAccount.objects.get(client_id=payload["clientId"])
    assert payload == {"clientId": account.client_id, "clientSecret": None, "keyId": account.key_id}
    if shape == "jwk":
        assert account.key_id == "ops-key"
    assert api.token(Credentials(account, key=keys[2]))


def test_jwt_account_text_output(demo, keys, tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text(public_pem(keys[2]))
    code, out, _ = run(*DEPLOYER, str(key_file))
    assert code == 0
    account = ServiceAccount.objects.get(name="deployer")
    assert out.splitlines()[1:] == [f"Client ID: {account.client_id}", f"Key ID: {account.key_id}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--company", "nope", "--name", "x", "--role", "guest"], "error: unknown company 'nope'"),
        (["--company", "acme", "--name", "x", "--role", "boss"], "error: invalid role 'boss'"),
        (["--company", "acme", "--name", "ci-deployer", "--role", "guest"], "error: A service account named"),
        (["--company", "acme", "--name", "  ", "--role", "guest"], "error: --name must not be blank"),
        (
            ["--company", "acme", "--name", "x", "--role", "guest", "--auth-method", "magic"],
            "error: invalid --auth-method",
        ),
        (
            ["--company", "acme", "--name", "x", "--role", "guest", "--auth-method", "private_key_jwt"],
            "error: private_key_jwt needs --public-key FILE",
        ),
        (
            ["--company", "acme", "--name", "x", "--role", "guest", *JWT, "/nonexistent/key.pem"],
            "error: cannot read /nonexistent/key.pem",
        ),
        (
            ["--company", "acme", "--name", "x", "--role", "guest", "--public-key", "/etc/hostname"],
            "error: --public-key is only for",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(demo, args, message):
    before = snapshot()
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert snapshot() == before


def test_a_bad_key_file_exits_2(demo, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("not a key")
    code, _, err = run("--company", "acme", "--name", "x", "--role", "guest", *JWT, str(key_file))
    assert code == 2
    assert err.startswith("error: Not a key we can read")


def test_missing_arguments_exit_2(demo, capsys):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "create_service_account", "--company", "acme"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "the following arguments are required: --name, --role" in result.stderr
