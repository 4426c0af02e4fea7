"""The real app under gunicorn for tests that need real processes (concurrency, crashes, backups,
several servers), and a small HTTP client that signs in and posts forms as a browser would.

    app = make_test_app(tmp_path)                     # creates the tables in the test process
    with start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"]) as server:
        browser = Browser(server.url)
        browser.sign_in("anna", factories.PASSWORD)
        status, body, headers = browser.post("/journal/", {"title": "…", "body": "…"})

The server runs from the repository root as in production (`wsgi:app`, CSRF on), configured only
through its environment: it gets an instance folder of its own, so a developer's instance/config.py,
secret key or SQLite file never leak in, and FLASK_* variables of the calling shell are dropped.
"""
from __future__ import annotations

import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from types import TracebackType

from .conftest import csrf_token_from

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
# One fixed key for every server a test starts: a session made by one is valid on the others.
TEST_SECRET_KEY = "rost-test-secret-key-shared-by-every-test-server-0123456789abcdef"
# Straight to 127.0.0.1, whatever proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Variables of the calling shell that would configure the server behind the test's back.
_DROPPED = ("DATABASE_URL", "HTMX_SOURCE", "RATELIMIT_STORAGE_URI", "ROST_INSTANCE_PATH")


class ServerError(RuntimeError):
    """The server did not start or answer; the message carries the end of its log."""


class ConnectionLost(OSError):
    """The request got no complete answer (refused, reset, cut off): nothing was acknowledged."""


def free_port() -> int:
    """A free port below the kernel's range for outgoing connections. While a killed server is down,
    a client's outgoing connection could otherwise be given the server's own port (and even connect
    to itself), and the restarted server could not bind it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    rng = random.Random()
    for _ in range(100 if low > 20_000 else 0):
        port = rng.randrange(20_000, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_uri: str, instance_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_") and k not in _DROPPED}
    env.update({
        "DATABASE_URL": database_uri,
        "ROST_INSTANCE_PATH": str(instance_path),
        "FLASK_SECRET_KEY": TEST_SECRET_KEY,
        "HTMX_SOURCE": "local",
        "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast sign-ins; production keeps scrypt
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


class Server:
    """One gunicorn (master and workers in a process group of their own) on 127.0.0.1:port."""

    def __init__(self, database_uri: str, *, port: int | None = None, workers: int = 2,
                 env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.folder = Path(tempfile.mkdtemp(prefix="rost-gunicorn-"))
        (self.folder / "instance").mkdir()
        self.log_path = self.folder / "server.log"
        self.env = server_env(database_uri, self.folder / "instance", env)
        self.process: subprocess.Popen | None = None
        self.starts = 0

    # Processes -----------------------------------------------------------------------------------

    def start(self) -> Server:
        if self.running():
            raise ServerError("the server is already running")
        command = [str(GUNICORN), "--worker-class", "gthread", "--workers", str(self.workers), "--threads", "4",
                   "--no-control-socket", "--graceful-timeout", "5", "--timeout", "60",
                   "--bind", f"127.0.0.1:{self.port}", "wsgi:app"]
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"--- start {self.starts}: {' '.join(command)}\n")
            log.flush()
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 20.0) -> Server:
        """Poll GET /login until it answers 200 (every worker has imported the app by then or soon)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ServerError(f"gunicorn exited with {self.process.returncode if self.process else None}\n{self.log_tail()}")
            try:
                with _DIRECT.open(self.url + "/login", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise ServerError(f"no answer from {self.url}/login within {timeout} s\n{self.log_tail()}")

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)  # the group id is the master's pid (start_new_session)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """A graceful stop (SIGTERM): requests in progress finish."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def kill(self) -> None:
        """A crash: SIGKILL to the master and every worker at once; nothing gets to clean up."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def restart(self, timeout: float = 20.0) -> Server:
        """Stop it if it runs (gracefully), start again on the same port, wait until it answers."""
        if self.running():
            self.stop()
        return self.start().wait_ready(timeout)

    # The log ------------------------------------------------------------------------------------

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.kill()
            if error is not None:  # pytest shows captured output of a failed test
                print(f"--- gunicorn log ({self.log_path})\n{self.log_tail(200)}", file=sys.stderr)
        finally:
            self.close()


def start_gunicorn(database_uri: str, *, port: int | None = None, workers: int = 2,
                   env: dict[str, str] | None = None, timeout: float = 20.0) -> Server:
    """Start the app under gunicorn and wait until it answers; use it as a context manager."""
    server = Server(database_uri, port=port, workers=workers, env=env)
    try:
        return server.start().wait_ready(timeout)
    except BaseException:
        print(f"--- gunicorn log ({server.log_path})\n{server.log_tail(200)}", file=sys.stderr)
        server.close()
        raise


# A client ----------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


Response = tuple[int, str, dict[str, str]]


class Browser:
    """Cookies, the CSRF token of the last page that had one, no redirects followed, no retries.

    A request that gets no complete answer raises ConnectionLost."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())
        self.csrf_token: str | None = None

    def _open(self, request: urllib.request.Request) -> Response:
        try:
            try:
                with self.opener.open(request, timeout=self.timeout) as response:
                    status, body, headers = response.status, response.read(), response.headers
            except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx land here
                with error:
                    status, body, headers = error.code, error.read(), error.headers
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionLost(f"{request.get_method()} {request.full_url}: {error!r}") from error
        text = body.decode("utf-8", errors="replace")
        self._remember_token(text)
        return status, text, dict(headers.items())

    def _remember_token(self, html: str) -> None:
        if 'name="csrf_token"' in html or '"X-CSRFToken"' in html:
            try:
                self.csrf_token = csrf_token_from(html)
            except AssertionError:
                pass

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self._open(urllib.request.Request(self.base_url + path, headers=headers or {}, method="GET"))

    def post(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Response:
        """A form post carrying the CSRF token (in the form and in the header, as htmx sends it)."""
        if self.csrf_token is None:
            self.get("/login")
        fields = {"csrf_token": self.csrf_token or "", **fields}
        sent = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.csrf_token or "",
                **(headers or {})}
        data = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base_url + path, data=data, headers=sent, method="POST"))

    def sign_in(self, login: str, password: str) -> None:
        """Sign in, then take the token of the new session (signing in starts a fresh session)."""
        self.get("/login")
        status, _body, _headers = self.post("/login", {"login": login, "password": password})
        if status != 303:
            raise AssertionError(f"{login} could not sign in: {status}")
        self.get("/account")
