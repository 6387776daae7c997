"""The two developer commands of IAM Portal.

    python3 dev.py run [--port 8000]   set up, migrate, load the demo data and serve on http://127.0.0.1:8000/
    python3 dev.py test [PYTEST ARGS]  run the whole test suite (e.g. `python3 dev.py test -k resolver`)

Both need only Python 3.11+ and pip: they install `uv` when it is missing and let it create `.venv`
from `uv.lock`. `run` uses DEBUG=true and the SQLite database `db.sqlite3`; `test` uses SQLite too,
or PostgreSQL when DATABASE_URL is set; the browser tests also need Debian's Chromium and npm (for axe-core,
which `test` installs with `npm ci`). Standard library only, on purpose.
"""

import argparse
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
NODE_TOOLS = ROOT / "tests" / "oidc"
DEMO_BOX = [
    "Open http://127.0.0.1:{port}/",
    "Sign in as owner@acme.test / {password} (Company Owner of Acme).",
    "admin@acme.test (same password) is the super user: http://127.0.0.1:{port}/admin/",
]


def demo_password() -> str:
    """The demo password from its one place; run as a plain file, since Django may not be installed yet."""
    return runpy.run_path(str(ROOT / "iam_portal" / "orgs" / "demo.py"))["DEMO_PASSWORD"]


def say(message: str) -> None:
    print(f"dev.py: {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, **kwargs)  # noqa: S603 (fixed commands, no shell)


def python_has_uv() -> bool:
    return run([sys.executable, "-m", "uv", "--version"], capture_output=True).returncode == 0


def find_uv() -> list[str] | None:
    """The command that runs uv: the one on PATH, or `python -m uv` when pip put it in a user directory."""
    if path := shutil.which("uv"):
        return [path]
    if python_has_uv():
        return [sys.executable, "-m", "uv"]
    return None


def install_uv() -> list[str]:
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "uv"]
    attempts = [
        [*pip, "--user"],  # the usual case
        pip,  # inside a virtualenv, where --user is refused
        [*pip, "--user", "--break-system-packages"],  # Debian's system Python (PEP 668)
    ]
    errors = ""
    for command in attempts:
        say("installing uv: " + " ".join(command[1:]))
        result = run(command, capture_output=True, text=True)
        if result.returncode == 0 and (uv := find_uv()):
            return uv
        errors = result.stderr
    sys.exit(f"{errors}\ndev.py: could not install uv; install it (https://docs.astral.sh/uv/) and retry.")


def bootstrap() -> list[str]:
    """uv, then `.venv` with every dependency (dev ones included) exactly as uv.lock pins them."""
    uv = find_uv() or install_uv()
    say("uv sync --frozen (creates .venv from uv.lock)")
    if run([*uv, "sync", "--frozen"]).returncode != 0:
        sys.exit("dev.py: `uv sync --frozen` failed.")
    return uv


def manage(uv: list[str], *args: str) -> None:
    say("manage.py " + " ".join(args))
    if run([*uv, "run", "--frozen", "python", "manage.py", *args]).returncode != 0:
        sys.exit(f"dev.py: `manage.py {' '.join(args)}` failed.")


ENV_FILE = ROOT / ".env"
LOCAL_ENV = """# Written by `python3 dev.py run` for this checkout: manage.py commands read it (see the README).
# A local demo only: never use DEBUG=true in production.
DEBUG=true
"""


def ensure_local_env() -> None:
    """Local commands (`.venv/bin/python manage.py …`) read .env; start one for a demo checkout."""
    if not ENV_FILE.exists():
        ENV_FILE.write_text(LOCAL_ENV)
        say("wrote .env (DEBUG=true) so that `.venv/bin/python manage.py …` works in this checkout")


def command_run(port: int) -> None:
    os.environ.setdefault("DEBUG", "true")
    ensure_local_env()
    uv = bootstrap()
    say("database: " + ("DATABASE_URL" if os.environ.get("DATABASE_URL") else "SQLite, db.sqlite3"))
    manage(uv, "migrate", "--no-input")
    manage(uv, "seed_demo")
    lines = [line.format(port=port, password=demo_password()) for line in DEMO_BOX]
    width = max(len(line) for line in lines)
    print("\n+-" + "-" * width + "-+")
    for line in lines:
        print(f"| {line:<{width}} |")
    print("+-" + "-" * width + "-+\n", flush=True)
    command = [*uv, "run", "--frozen", "python", "manage.py", "runserver", f"127.0.0.1:{port}"]
    os.chdir(ROOT)
    os.execv(command[0], command)  # noqa: S606 (replaces this process; Ctrl-C stops the server)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it when we can, or skip those tests loudly."""
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("/usr/bin/chromium is missing: running apt-get update && apt-get install -y chromium")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if run(["apt-get", "update"], env=env).returncode == 0:
            run(["apt-get", "install", "-y", "chromium"], env=env)
    if not CHROMIUM.exists():
        os.environ["IAM_SKIP_BROWSER"] = "1"
        print(
            "\n!! WARNING: /usr/bin/chromium is not installed, so the browser tests will be SKIPPED.\n"
            "!! Install it with `sudo apt-get install chromium` to run them.\n",
            flush=True,
        )


def ensure_node_tools() -> None:
    """The sign-in tests run a real OpenID provider (npm `oidc-provider`, pinned in tests/oidc)."""
    if (NODE_TOOLS / "node_modules" / "oidc-provider").is_dir():
        return
    if shutil.which("npm"):
        say("npm ci --prefix tests/oidc (the test OpenID provider and axe-core)")
        if run(["npm", "ci", "--prefix", str(NODE_TOOLS), "--no-audit", "--no-fund"]).returncode == 0:
            return
    print(
        "\n!! WARNING: Node.js/npm or tests/oidc/node_modules is missing, so the OpenID Connect sign-in tests\n"
        "!! will be SKIPPED. Install Node.js 20+ with npm, then run `npm ci --prefix tests/oidc`.\n",
        flush=True,
    )


def command_test(pytest_args: list[str]) -> int:
    uv = bootstrap()
    ensure_chromium()
    ensure_node_tools()
    database = "PostgreSQL (DATABASE_URL)" if os.environ.get("DATABASE_URL") else "SQLite"
    say(f"pytest on {database}")
    return run([*uv, "run", "--frozen", "pytest", *parallel(pytest_args), *pytest_args]).returncode


def parallel(pytest_args: list[str]) -> list[str]:
    """One pytest worker per CPU (pytest-xdist), each with its own test database and browser, files kept
    whole on one worker so module fixtures are built once; unless the arguments choose (`-n 0` runs in one
    process, as does `-p no:xdist`) or name single tests, where starting workers costs more than it saves."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in pytest_args)
    single = any("::" in a for a in pytest_args)
    return [] if chosen or single else ["-n", "auto", "--dist", "loadfile"]


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["test"]:
        sys.exit(command_test(argv[1:]))  # everything after `test` goes to pytest untouched
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("run", help="migrate, load the demo data and serve on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("test", help="run the test suite; extra arguments go to pytest")
    args = parser.parse_args(argv)
    command_run(args.port)


if __name__ == "__main__":
    main()
