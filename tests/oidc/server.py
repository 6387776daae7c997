"""Starts the test OpenID provider (provider.mjs, the npm package `oidc-provider`) on a free loopback port,
waits until its discovery document answers, and drives its sign-in page the way a browser would.

`npm ci --prefix tests/oidc` installs it (`.ci/run` and `python3 dev.py test` do).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

HERE = Path(__file__).resolve().parent
CLIENT_ID = "iam-portal"
CLIENT_SECRET = "tests-only-client-secret"
STARTUP_SECONDS = 30


def unavailable_reason() -> str | None:
    if shutil.which("node") is None:
        return "the OpenID provider tests need Node.js (node) on PATH"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return "the OpenID provider tests need `npm ci --prefix tests/oidc`"
    return None


def require_node() -> None:
    """Skip (locally) or fail (in CI, where .ci/run installs everything) when the provider cannot run."""
    reason = unavailable_reason()
    if reason and os.environ.get("CI"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


class OIDCServer:
    def __init__(self, process: subprocess.Popen, issuer: str, config_path: Path):
        self.process = process
        self.issuer = issuer
        self.config_path = config_path

    def set_account(self, sub: str, **claims) -> None:
        self._put(f"/test/accounts/{sub}", claims)

    def set_mode(self, mode: str) -> None:
        self._put("/test/mode", {"mode": mode})

    def _put(self, path: str, body: dict) -> None:
        response = requests.put(self.issuer + path, json=body, timeout=10)
        assert response.status_code == 204, response.text

    def authorize(self, url: str, sub: str, *, browser: requests.Session | None = None) -> str:
        """Follows the authorization request `url` through the provider, signs in as `sub`, and returns the
        URL the provider sends the browser back to (the portal's callback). `browser` keeps the provider's
        cookies between calls (a second sign-in then skips the form)."""
        browser = browser or requests.Session()
        for _ in range(12):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and 'name="login"' in response.text:
                action = urljoin(url, response.text.split('action="', 1)[1].split('"', 1)[0])
                response = browser.post(
                    action, data={"login": sub, "password": "x"}, allow_redirects=False, timeout=10
                )
            assert response.status_code in (302, 303), (
                f"{response.status_code} at {url}: {response.text[:500]}"
            )
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider kept redirecting to itself")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.config_path.unlink(missing_ok=True)


def start(*, portal_url: str, provider_ids: list[str], accounts: dict) -> OIDCServer:
    """A provider whose one client (CLIENT_ID) may return to `portal_url` for each provider id."""
    require_node()
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{portal_url}/accounts/oidc/{pid}/login/callback/" for pid in provider_ids],
        "post_logout_redirect_uris": [f"{portal_url}/accounts/login/"],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"clients": [client], "accounts": accounts}, handle)
    config_path = Path(handle.name)
    process = subprocess.Popen(
        ["node", str(HERE / "provider.mjs"), str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    issuer, output = _wait_for_listening(process)
    if issuer is None:
        process.kill()
        raise RuntimeError(f"the test OpenID provider did not start:\n{output}")
    server = OIDCServer(process, issuer, config_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("the test OpenID provider never answered its discovery document")
        time.sleep(0.1)


def _wait_for_listening(process: subprocess.Popen) -> tuple[str | None, str]:
    """Reads the provider's output in a thread (which keeps draining it afterwards, so a chatty provider
    never blocks on a full pipe) until the "listening <issuer>" line."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    output = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        output.append(line)
        if line.startswith("listening "):
            return line.split()[1], "".join(output)
    return None, "".join(output)
