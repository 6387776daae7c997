"""`python -m iam_portal.healthcheck`: probe the local gunicorn's /healthz, for the container's HEALTHCHECK.

It asks the address gunicorn listens on (GUNICORN_BIND, as gunicorn.conf.py reads it), so the check follows
the port. /healthz is answered before the host check, so no Host header is needed. Exit status 0 when the
portal and its database answer, 1 otherwise. Standard library only: it must not load Django.
"""

import os
import sys
import urllib.error
import urllib.request


def health_url(bind: str) -> str:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (listening on every address: probe the loopback)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    url = health_url(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000"))
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (a fixed local http URL)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
