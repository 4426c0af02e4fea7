"""How the benchmark measures: the served app under gunicorn, signing in over HTTP, single
requests (status and bytes), wrk runs, worker memory, database size, and the machine."""
from __future__ import annotations

import http.cookiejar
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = ROOT / "bench" / "wrk"
LOGS = ROOT / "bench" / "data"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def gunicorn_args() -> list[str]:
    """GUNICORN_ARGS from the Makefile (passed by `make bench`), so the benchmark serves the app
    exactly as `make run` does; read from the Makefile itself when run without make."""
    value = os.environ.get("GUNICORN_ARGS")
    if not value:
        found = re.search(r"^GUNICORN_ARGS \?= (.+)$", (ROOT / "Makefile").read_text(), re.M)
        value = found.group(1) if found else ""
    return shlex.split(value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The server -----------------------------------------------------------------------------------------

@dataclass
class Server:
    database_url: str
    secret_key: str
    label: str
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str) -> None:
        self.port = free_port()
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"gunicorn-{self.label}.log"
        env = {**os.environ, "DATABASE_URL": self.database_url, "FLASK_SECRET_KEY": self.secret_key,
               "HTMX_SOURCE": "local"}
        command = [str(Path(sys.executable).with_name("gunicorn")), *gunicorn_args(),
                   "--bind", f"127.0.0.1:{self.port}", "bench.serve:app"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                if fetch(self.base + ready_path).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def worker_memory(self) -> list[dict]:
        """Resident and peak memory of each worker (the master's children), in MB."""
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != self.process.pid:
                    continue
                status = (stat.parent / "status").read_text()
            except (OSError, IndexError, ValueError):
                continue
            kb = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.+)$", status, re.M)}
            workers.append({"pid": int(stat.parent.name), "rss_mb": round(kb.get("VmRSS", 0) / 1024, 1),
                            "peak_mb": round(kb.get("VmHWM", 0) / 1024, 1)})
        return sorted(workers, key=lambda w: w["pid"])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


# Single requests ----------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to check, not something to follow


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)


def fetch(url: str, headers: dict | None = None, data: bytes | None = None, jar=None, timeout: float = 30) -> Answer:
    handlers = [_NoRedirect()] + ([urllib.request.HTTPCookieProcessor(jar)] if jar is not None else [])
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), dict(error.headers))


@dataclass
class Session:
    """A signed-in person: the cookie jar of a browser, and the Cookie header wrk sends."""

    base: str
    jar: http.cookiejar.CookieJar

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return fetch(self.base + path, headers=headers, jar=self.jar)


def sign_in(base: str, login: str, password: str) -> Session:
    """POST /login with the form's CSRF token, as a browser does (a success is not throttled)."""
    jar = http.cookiejar.CookieJar()
    page = fetch(base + "/login", jar=jar)
    token = csrf_token(page.body)
    form = urllib.parse.urlencode({"csrf_token": token, "login": login, "password": password}).encode()
    answer = fetch(base + "/login", data=form, jar=jar,
                   headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": base + "/login"})
    if answer.status != 303 or "/login" in answer.headers.get("Location", "/login"):
        raise RuntimeError(f"signing in as {login} failed: {answer.status}")
    return Session(base, jar)


def csrf_token(html: bytes) -> str:
    found = CSRF_FIELD.search(html.decode("utf-8", "replace"))
    if not found:
        raise RuntimeError("no csrf_token in the page")
    return found.group(1)


# wrk ------------------------------------------------------------------------------------------------------

def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(url: str, headers: dict, seconds: int, connections: int, threads: int,
            script: str = "report.lua", env: dict | None = None) -> dict:
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(WRK_DIR / script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          env={**os.environ, **(env or {})})
    found = re.search(r"^BENCH_JSON (.+)$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


# The machine and the database -------------------------------------------------------------------------------

def _first(pattern: str, text: str, default: str = "?") -> str:
    found = re.search(pattern, text, re.M)
    return found.group(1).strip() if found else default


def machine_info() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    import sqlite3

    import gunicorn

    wrk = subprocess.run([wrk_path() or "wrk", "-v"], capture_output=True, text=True)
    return {
        "cpu": _first(r"^model name\s*:\s*(.+)$", cpuinfo),
        "cores": os.cpu_count(),
        "ram_gb": round(int(_first(r"^MemTotal:\s*(\d+)", meminfo, "0")) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": gunicorn.__version__,
        "gunicorn_args": " ".join(gunicorn_args()),
        "wrk": _first(r"^(wrk \S+)", wrk.stdout + wrk.stderr),
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
