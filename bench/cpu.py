"""`python -m bench.cpu [ENDPOINT …]`: where the machine's CPU goes under wrk, per request.

For each endpoint (default: the ceiling, the badge and comment polls, the thread list), on the
first size in SIZES (small), it serves the app as `make bench` does, runs wrk the same way, and
divides by the requests served the CPU time (user and system) that went to the gunicorn workers,
to the database server's processes (PostgreSQL; none for SQLite) and to wrk. wrk and the server
share the cores, so this tells what a request costs the app's own machine, apart from the load
generator and from a database server that a region would run on a machine of its own
(docs/performance.md, finding 3). Settings as for `make bench`: DATABASE_URL, SIZES,
BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_THREADS."""
from __future__ import annotations

import os
import resource
import secrets
import sys
from pathlib import Path

from . import endpoints as ep
from . import measure, seed
from .ceiling import CEILING_PATH
from .run import settings

DEFAULT = ("ceiling", "badge_poll", "comment_poll", "threads")
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(stat: str) -> float:
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def process_cpu(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the gunicorn workers (the server's children) and of every process
    named postgres on this machine."""
    totals = {"app": 0.0, "database": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        if parent == server_pid:
            totals["app"] += _cpu_seconds(stat)
        elif name.startswith("postgres"):
            totals["database"] += _cpu_seconds(stat)
    return totals


def _wrk_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
    return usage.ru_utime + usage.ru_stime


def main(keys: list[str]) -> int:
    if measure.wrk_path() is None:
        print("wrk is needed: sudo apt-get install -y wrk", file=sys.stderr)
        return 1
    conf = settings()
    size = conf["sizes"][0]
    url, fixture, _seeded = seed.ensure(size, conf["database_url"], print)
    points = {point.key: point for point in ep.endpoints(fixture, CEILING_PATH)}
    unknown = [key for key in keys if key not in points or points[key].post]
    if unknown:
        print(f"unknown or posting endpoints: {', '.join(unknown)}; choose from "
              + ", ".join(k for k, p in points.items() if not p.post), file=sys.stderr)
        return 2
    server = measure.Server(url, secrets.token_hex(32), f"cpu-{size}")
    server.start(CEILING_PATH)
    try:
        sessions = {persona: measure.sign_in(server.base, login, fixture.password)
                    for persona, login in ep.logins(fixture).items()}
        print(f"[{size}] CPU ms per request under wrk ({conf['connections']} connections, {conf['seconds']} s, "
              f"a new connection per request)")
        for key in keys:
            point = points[key]
            headers = {**point.headers, "Connection": "close"}
            if point.persona is not None:
                headers["Cookie"] = sessions[point.persona].cookie
            args = (server.base + point.path, headers)
            measure.run_wrk(*args, conf["warmup"] or 1, conf["connections"], conf["threads"])
            before, wrk_before = process_cpu(server.process.pid), _wrk_cpu()
            timed = measure.run_wrk(*args, conf["seconds"], conf["connections"], conf["threads"])
            after, wrk_after = process_cpu(server.process.pid), _wrk_cpu()
            per = {part: (after[part] - before[part]) * 1000 / timed["requests"] for part in after}
            per["wrk"] = (wrk_after - wrk_before) * 1000 / timed["requests"]
            print(f"  {key:13} {timed['rps']:7.0f} req/s   app {per['app']:.2f}   database {per['database']:.2f}"
                  f"   wrk {per['wrk']:.2f}   all {sum(per.values()):.2f}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(DEFAULT)))
