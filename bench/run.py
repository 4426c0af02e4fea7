"""`make bench` (python -m bench.run): for each size, seed (or reuse) the database, count each
endpoint's SQL in-process, serve the app with gunicorn, sign in; then for each endpoint and size in
turn check the answer and drive it with wrk; then read the workers' memory and the database size. Writes
bench/results/<sqlite|postgresql>.md and .json.

Settings from the environment: SIZES (small large), DATABASE_URL (PostgreSQL; else SQLite in
bench/data/), BENCH_ROUNDS (3), BENCH_SECONDS (5 per round), BENCH_WARMUP (2, before the first round),
BENCH_CONNECTIONS (16), BENCH_THREADS (2), BENCH_KEEPALIVE (0: a new connection per request, as nginx's
proxy opens them in the single-server deployment; 1: wrk keeps its connections), GUNICORN_ARGS (from
the Makefile)."""
from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import endpoints as ep
from . import measure, report, seed
from .ceiling import CEILING_PATH


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def settings() -> dict:
    return {
        "sizes": (os.environ.get("SIZES") or "small large").split(),
        "database_url": os.environ.get("DATABASE_URL") or None,
        "rounds": _int("BENCH_ROUNDS", 3),
        "seconds": _int("BENCH_SECONDS", 5),
        "warmup": _int("BENCH_WARMUP", 2),
        "connections": _int("BENCH_CONNECTIONS", 16),
        "threads": _int("BENCH_THREADS", 2),
        "keepalive": os.environ.get("BENCH_KEEPALIVE", "0") == "1",
    }


def log(message: str) -> None:
    print(message, flush=True)


def check(session_or_none, point: ep.Endpoint, base: str, body: str | None) -> measure.Answer:
    headers = dict(point.headers)
    if point.post:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = body.encode()
    else:
        data = None
    if session_or_none is not None:
        headers["Cookie"] = session_or_none.cookie
    # Generous: right after a run the server may still be working through requests wrk gave up on.
    answer = measure.fetch(base + point.path, headers=headers, data=data, timeout=300)
    if answer.status != point.status:
        where = answer.headers.get("Location", "")
        raise RuntimeError(f"{point.key}: {point.path} answered {answer.status} {where}, expected {point.status}")
    return answer


@dataclass
class Stage:
    """One size, seeded and served: what its measurements need."""

    size: str
    url: str
    fixture: seed.Fixture
    seeded: float | None
    points: list[ep.Endpoint]
    counts: dict
    server: measure.Server
    sessions: dict = field(default_factory=dict)
    rounds: dict = field(default_factory=dict)  # endpoint key -> one result per round
    results: dict = field(default_factory=dict)


def prepare(size: str, conf: dict, db_kind: str) -> Stage:
    """Seed (or reuse), count each endpoint's SQL and time it alone in-process, serve, and sign everyone in."""
    url, fixture, seeded = seed.ensure(size, conf["database_url"], log)
    removed = ep.remove_posted_comments(url, fixture)
    if removed:
        log(f"[{size}] removed {removed} comments left by an earlier run")
    points = ep.endpoints(fixture, CEILING_PATH)
    log(f"[{size}] counting SQL statements and timing one request alone, in-process …")
    counts = ep.count_queries(url, fixture, points)
    for point in points:
        if counts[point.key]["status"] != point.status:
            raise RuntimeError(f"{point.key}: in-process answer {counts[point.key]['status']}, expected {point.status}")
    ep.remove_posted_comments(url, fixture)
    stage = Stage(size, url, fixture, seeded, points, counts,
                  measure.Server(url, secrets.token_hex(32), f"{db_kind}-{size}"))
    stage.server.start(CEILING_PATH)
    log(f"[{size}] gunicorn {' '.join(measure.gunicorn_args())} on {stage.server.base}")
    stage.sessions = {persona: measure.sign_in(stage.server.base, login, fixture.password)
                      for persona, login in ep.logins(fixture).items()}
    return stage


def measure_point(stage: Stage, point: ep.Endpoint, conf: dict, key: str, first_round: bool) -> None:
    session = stage.sessions.get(point.persona)
    token = measure.csrf_token(session.get(point.token_page).body) if point.post else ""  # from the page a person posts from
    post_body = ep.form_body(point, token) if point.post else None
    base = stage.server.base
    answer = check(session, point, base, ep.form_body(point, token, "before") if point.post else None)
    headers = dict(point.headers)
    if session is not None:
        headers["Cookie"] = session.cookie
    if not conf["keepalive"]:
        # nginx (docs/deploy/nginx-school.conf) opens a connection to gunicorn per request. wrk's
        # kept connections would stay with whichever worker accepted them first: one worker often
        # holds 15 of the 16 and the run measures one core (the same endpoint then halves).
        headers["Connection"] = "close"
    script, env = ("report.lua", None)
    if point.post:
        script, env = "post_form.lua", {"BENCH_BODY": post_body, "BENCH_NUMBERED": "1" if point.post_text else "0"}
    if conf["warmup"] and first_round:
        measure.run_wrk(base + point.path, headers, conf["warmup"], conf["connections"], conf["threads"], script, env)
    timed = measure.run_wrk(base + point.path, headers, conf["seconds"], conf["connections"], conf["threads"],
                            script, env)
    check(session, point, base, ep.form_body(point, token, "after") if point.post else None)  # the same answer after the load
    queries = stage.counts[point.key]["queries"]
    stage.rounds.setdefault(key, []).append({
        "label": point.label, "kind": point.kind, "path": point.path, "expected_status": point.status,
        "rps": round(timed["rps"], 1), "p50_ms": timed["p50_us"] / 1000, "p90_ms": timed["p90_us"] / 1000,
        "p99_ms": timed["p99_us"] / 1000, "requests": timed["requests"], "errors": timed["errors"],
        "bytes": len(answer.body), "queries": queries, "alone_ms": stage.counts[point.key]["alone_ms"],
    })
    log(f"[{stage.size}] {point.key:13} {timed['rps']:8.1f} req/s  p50 {timed['p50_us'] / 1000:7.2f} ms  "
        f"p99 {timed['p99_us'] / 1000:7.2f} ms  {len(answer.body):6d} B  {queries} SQL")


def median_round(results: list[dict]) -> dict:
    """The round with the median throughput: one slow or fast round (another process, a CPU
    stolen by the host) does not make the figure."""
    ranked = sorted(results, key=lambda r: r["rps"])
    chosen = dict(ranked[len(ranked) // 2])
    chosen["rounds_rps"] = [r["rps"] for r in results]
    return chosen


def finish(stage: Stage) -> dict:
    """Memory after the run, the server stopped, the posted comments removed, ratios to the ceiling."""
    stage.results = {key: median_round(results) for key, results in stage.rounds.items()}
    memory = stage.server.worker_memory()
    stage.server.stop()
    removed = ep.remove_posted_comments(stage.url, stage.fixture)
    results = stage.results
    ceiling = (results["ceiling"]["rps"] + results.pop("ceiling_end")["rps"]) / 2
    results["ceiling"]["rps_start"] = results["ceiling"]["rps"]
    results["ceiling"]["rps"] = round(ceiling, 1)
    for item in results.values():
        item["ratio"] = round(item["rps"] / ceiling, 3) if ceiling else None
    return {
        "seeded_seconds": round(stage.seeded, 1) if stage.seeded is not None else None,
        "counts": stage.fixture.counts,
        "endpoints": results,
        "workers": memory,
        "database_bytes": report.database_size(stage.url, stage.size),
        "posted_comments_removed": removed,
        "statements": {k: v["statements"] for k, v in stage.counts.items()},
    }


def bench(conf: dict, db_kind: str) -> dict:
    """Every size is served at once and each endpoint is measured on one size right after the
    other, so a change in the machine's load between endpoints falls on all sizes alike; the whole
    round is repeated and each figure is the median round's."""
    stages: list[Stage] = []
    try:
        for size in conf["sizes"]:
            stages.append(prepare(size, conf, db_kind))
        points = stages[0].points
        for round_number in range(conf["rounds"]):
            for n, point in enumerate(points + [points[0]]):  # the ceiling again at the end: the drift
                key = "ceiling_end" if n == len(points) else point.key
                for stage in stages:
                    measure_point(stage, stage.points[n % len(points)], conf, key, round_number == 0)
        return {stage.size: finish(stage) for stage in stages}
    finally:
        for stage in stages:
            stage.server.stop()


def main() -> int:
    if measure.wrk_path() is None:
        print("wrk is needed for the benchmark: sudo apt-get install -y wrk", file=sys.stderr)
        return 1
    conf = settings()
    db_kind = "postgresql" if conf["database_url"] else "sqlite"
    started = time.monotonic()
    run = {
        "database": db_kind,
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {k: v for k, v in conf.items() if k != "database_url"},
        "machine": {**measure.machine_info(), **report.database_version(conf["database_url"])},
        "load_before": measure.load_average(),
        "sizes": {},
    }
    run["sizes"] = bench(conf, db_kind)
    run["load_after"] = measure.load_average()
    run["seconds"] = round(time.monotonic() - started)
    md, js = report.write(run)
    print()
    print(report.table(run))
    print(f"\nWritten: {md.relative_to(report.ROOT)} and {js.relative_to(report.ROOT)} ({run['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
