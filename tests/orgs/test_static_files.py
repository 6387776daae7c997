"""Static files in the production shape (issue 9, item 37): with DEBUG=false and STATIC_MANIFEST=true, after
`collectstatic`, every file a page links is served under a hashed name, compressed, and cached for good.

The tests themselves run with STATIC_MANIFEST=false (no collectstatic), so the production shape runs in a
fresh Python process with the production environment; only STATIC_ROOT points into a temporary folder.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVE = """
import json, re, sys
import django
from django.conf import settings
settings.STATIC_ROOT = sys.argv[1]
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("collectstatic", interactive=False, verbosity=0)
client = Client()
html = client.get("/accounts/login/").content.decode()
served = {}
for url in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))):
    response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    served[url] = {
        "status": response.status_code,
        "encoding": response.get("Content-Encoding"),
        "cache": response.get("Cache-Control"),
    }
print(json.dumps({"debug": settings.DEBUG, "storage": settings.STORAGES["staticfiles"]["BACKEND"], "served": served}))
"""
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "iam_portal.settings",
    "DEBUG": "false",
    "STATIC_MANIFEST": "true",
    "SECRET_KEY": "static-files-test-only-not-a-secret",
    "ALLOWED_HOSTS": "testserver",
}


def test_production_serves_static_files_hashed_compressed_and_cached_for_good(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"WHITENOISE_USE_FINDERS", "DATABASE_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", SERVE, str(tmp_path / "static")],
        cwd=ROOT,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shape = json.loads(result.stdout.strip().splitlines()[-1])
    assert shape["debug"] is False
    assert shape["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"

    served = shape["served"]
    kinds = {Path(url).suffix for url in served}
    assert {".css", ".js", ".svg"} <= kinds  # the stylesheet, htmx and our script, the icon
    for url, answer in served.items():
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url  # the manifest's hashed name
        assert answer["status"] == 200, url
        # A hashed name never changes content: a year or more, immutable.
        assert "immutable" in answer["cache"] and "max-age=315360000" in answer["cache"], (url, answer)
        if Path(url).suffix in {".css", ".js"}:
            assert answer["encoding"] in {"gzip", "br"}, (url, answer)
