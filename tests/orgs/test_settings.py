"""Settings read from the environment: refusals at start-up, the local .env file, the health check probe."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iam_portal.healthcheck import health_url

ROOT = Path(__file__).resolve().parents[2]


def start_django(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter, from a copy-free working directory, with only `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")}
    clean.update(env)
    code = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'iam_portal.settings'); django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "secret",
    [
        "replace-me-with-64-random-characters-from-secrets-token-urlsafe",  # .env.example's value
        "change-me",
        "insecure-local-development-key-never-use-in-production",
    ],
)
def test_a_placeholder_secret_key_is_refused_without_debug(tmp_path, secret):
    """Issue 9 #29: the example secret must not pass `check --deploy` silently."""
    result = start_django(tmp_path, DEBUG="false", SECRET_KEY=secret)
    assert result.returncode != 0
    assert "SECRET_KEY is a placeholder" in result.stderr


def test_a_real_secret_key_starts(tmp_path):
    result = start_django(
        tmp_path, DEBUG="false", SECRET_KEY="x" * 20 + "-a-generated-secret-0123456789-abcdef"
    )
    assert result.returncode == 0, result.stderr


def test_env_example_documents_every_variable_the_readme_lists():
    example = (ROOT / ".env.example").read_text()
    assert "SECRET_KEY=replace-me" in example


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("0.0.0.0:8000", "http://127.0.0.1:8000/healthz"),
        ("127.0.0.1:9001", "http://127.0.0.1:9001/healthz"),
        ("[::]:8080", "http://127.0.0.1:8080/healthz"),
        ("[::1]:8080", "http://[::1]:8080/healthz"),
    ],
)
def test_the_image_health_check_follows_gunicorn_bind(bind, url):
    """Issue 9 #30: the HEALTHCHECK probes the port GUNICORN_BIND names, not a hard-coded 8000."""
    assert health_url(bind) == url
