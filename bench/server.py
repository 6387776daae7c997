"""gunicorn serving the project on a chosen loopback port, the way the production image runs it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.clients import HttpClient


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port (a connect test: a port in TIME_WAIT is free)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class GunicornServer:
    """gunicorn serving the project the production way (DEBUG off, persistent DB connections) on
    127.0.0.1:port. Use as a context manager: the server (and only it) is stopped on exit, error or Ctrl-C."""

    def __init__(
        self, *, port: int, workers: int = 3, database_url: str, base_dir: Path, extra_env: dict | None = None
    ):
        self.workers = workers
        self.port = port
        self.base_dir = base_dir
        self.log = tempfile.NamedTemporaryFile(prefix="iam-benchmark-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("BENCHMARK_SECRET_KEY") or os.urandom(32).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "WHITENOISE_USE_FINDERS": "true",
            "CONN_MAX_AGE": "60",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        local = Path(sys.executable).parent / "gunicorn"
        executable = str(local) if local.exists() else shutil.which("gunicorn") or "gunicorn"
        return [executable, "iam_portal.wsgi", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}"]

    def collectstatic(self) -> None:
        """What the production image does before serving (manifest storage needs it when DEBUG is off)."""
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=self.base_dir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=300,
        )

    def start(self, timeout: float = 30.0) -> None:
        self.collectstatic()
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            self.command(),
            cwd=self.base_dir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.perf_counter() + timeout
        probe = HttpClient(self.base_url, timeout=2)
        for _ in range(int(timeout / 0.1) + 1):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with status {self.process.returncode}; see {self.log.name}"
                )
            try:
                if probe.get("/healthz").status == 200:
                    return
            except OSError:
                pass
            if time.perf_counter() >= deadline:
                break
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only gunicorn and its workers
            process.wait(timeout=5)

    def __enter__(self) -> GunicornServer:
        self._previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            signal.signal(signal.SIGTERM, self._previous)
            raise
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        signal.signal(signal.SIGTERM, self._previous)
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt
