"""The benchmark's results: database facts, the targets of issue 5 §3 with a verdict each, and
the tables written to bench/results/<database>.md (kept in the repository) and .json."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

SCALING_LIMIT = 1.5  # p50 at the large size within 1.5× of the small size's
POLL_RATIO, PAGE_RATIO = 0.60, 0.15  # of the ceiling's requests per second
WORKER_MB = 150
JOURNAL_PAGE_BYTES = 40 * 1024
COMMENT_FRAGMENT_BYTES = 2 * 1024
OWN_JS_BYTES = 7 * 1024  # "a few KB" of our own JavaScript besides htmx


# The database ---------------------------------------------------------------------------------------

def database_size(url: str, size: str) -> dict:
    """SQLite: the file and its -wal. PostgreSQL: the size's schema (tables, indexes, TOAST)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        parts = {suffix or "file": (Path(f"{path}{suffix}").stat().st_size if Path(f"{path}{suffix}").exists() else 0)
                 for suffix in ("", "-wal")}
        return {"total": sum(parts.values()), **parts}
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            schema = conn.execute(text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind IN ('r', 'm')"),
                {"s": f"bench_{size}"}).scalar()
            whole = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    finally:
        engine.dispose()
    return {"total": int(schema), "database_all_sizes": int(whole)}


def database_version(base_url: str | None) -> dict:
    if not base_url:
        return {}
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    return {"postgresql": version}


def javascript() -> dict:
    """htmx and our own scripts, and how many <script> tags the templates hold."""
    static = ROOT / "static"
    htmx = static / "vendor" / "htmx.min.js"
    own = {p.relative_to(ROOT).as_posix(): p.stat().st_size for p in static.rglob("*.js") if "vendor" not in p.parts}
    tags = sum(len(re.findall(r"<script\b", p.read_text(encoding="utf-8"))) for p in (ROOT / "templates").rglob("*.html"))
    return {"htmx_bytes": htmx.stat().st_size if htmx.exists() else None, "own": own,
            "own_bytes": sum(own.values()), "script_tags_in_templates": tags}


# Verdicts ---------------------------------------------------------------------------------------------

def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**MISSED**")


def targets(run: dict) -> list[dict]:
    sizes = run["sizes"]
    small, large = sizes.get("small"), sizes.get("large")
    rows: list[dict] = []
    for key, item in (large or small or {"endpoints": {}})["endpoints"].items():
        if key == "ceiling":
            continue
        if small and large:
            ratio = large["endpoints"][key]["p50_ms"] / max(small["endpoints"][key]["p50_ms"], 0.001)
            rows.append({"target": f"scaling: {item['label']}", "limit": f"p50 large ≤ {SCALING_LIMIT}× small",
                         "value": f"{ratio:.2f}× ({small['endpoints'][key]['p50_ms']:.1f} → "
                                  f"{large['endpoints'][key]['p50_ms']:.1f} ms)", "ok": ratio <= SCALING_LIMIT})
            alone_small, alone_large = small["endpoints"][key].get("alone_ms"), item.get("alone_ms")
            if alone_small and alone_large:
                ratio = alone_large / alone_small
                rows.append({"target": f"scaling, one request alone: {item['label']}",
                             "limit": f"large ≤ {SCALING_LIMIT}× small",
                             "value": f"{ratio:.2f}× ({alone_small:.2f} → {alone_large:.2f} ms)",
                             "ok": ratio <= SCALING_LIMIT})
    for size, data in sizes.items():
        for item in data["endpoints"].values():
            if item["kind"] not in ("poll", "page"):
                continue
            limit = POLL_RATIO if item["kind"] == "poll" else PAGE_RATIO
            rows.append({"target": f"throughput ({size}): {item['label']}", "limit": f"≥ {limit:.0%} of ceiling",
                         "value": f"{item['ratio']:.0%}", "ok": item["ratio"] >= limit})
    if large:
        worst = max((w["rss_mb"] for w in large["workers"]), default=None)
        rows.append({"target": "memory: each worker after the large run", "limit": f"< {WORKER_MB} MB RSS",
                     "value": f"{worst} MB (peak {max((w['peak_mb'] for w in large['workers']), default=0)} MB)",
                     "ok": None if worst is None else worst < WORKER_MB})
    for size, data in sizes.items():
        journal = data["endpoints"].get("journal")
        if journal:
            rows.append({"target": f"page weight ({size}): journal page, 20 entries", "limit": "< 40 KB HTML",
                         "value": f"{journal['bytes'] / 1024:.1f} KB", "ok": journal["bytes"] < JOURNAL_PAGE_BYTES})
        posted = data["endpoints"].get("comment_post")
        if posted:
            rows.append({"target": f"page weight ({size}): fragment after posting a comment", "limit": "< 2 KB",
                         "value": f"{posted['bytes']} B", "ok": posted["bytes"] < COMMENT_FRAGMENT_BYTES})
    js = run["javascript"]
    rows.append({"target": "JavaScript: htmx and our own only", "limit": f"own ≤ {OWN_JS_BYTES // 1024} KB, one <script> per file",
                 "value": f"htmx {js['htmx_bytes']} B, own {js['own_bytes']} B, {js['script_tags_in_templates']} <script> tag(s)",
                 "ok": js["own_bytes"] <= OWN_JS_BYTES and js["script_tags_in_templates"] <= 1 + len(js["own"])})
    for row in rows:
        row["verdict"] = _mark(row["ok"])
    return rows


# Capacity on paper -------------------------------------------------------------------------------------

# What one active librarian asks of the server, per second, with one page open (webapp/config.py):
# the badge (20 s) and the groups item (15 s) poll on every page; the open page is an entry
# (comment poll, 15 s) or a thread (10 s) half the time each, with a form autosaving every 30 s;
# a page view a minute spread over the pages; a comment every ten minutes.
PAGES = ("journal", "entry", "feed", "thread", "threads")
POLLS = {"badge_poll": 20, "nav_poll": 15, "comment_poll": 15 * 2, "thread_poll": 10 * 2}


def demand(poll_factor: float = 1.0) -> dict[str, float]:
    """Requests per second of one active person, by endpoint; poll_factor stretches every interval."""
    rates = {key: 1 / (seconds * poll_factor) for key, seconds in POLLS.items()}
    rates["autosave"] = 1 / (30 * poll_factor)
    rates.update({key: 1 / 60 / len(PAGES) for key in PAGES})
    rates["comment_post"] = 1 / 600
    return rates


def capacity(endpoints: dict, poll_factor: float = 1.0) -> int | None:
    """Active people one server holds: each request costs 1/throughput of the whole server."""
    rates = demand(poll_factor)
    if any(key not in endpoints or not endpoints[key]["rps"] for key in rates):
        return None
    busy = sum(rate / endpoints[key]["rps"] for key, rate in rates.items())
    return int(1 / busy)


def capacity_rows(run: dict) -> list[str]:
    lines = ["| size | requests/s per person | polls as configured | polls ×2 slower | polls ×4 slower |",
             "|---|---:|---:|---:|---:|"]
    for size, data in run["sizes"].items():
        found = [capacity(data["endpoints"], f) for f in (1, 2, 4)]
        cells = " | ".join("n/a" if n is None else f"{n:,} people" for n in found)
        lines.append(f"| {size} | {sum(demand().values()):.3f} | {cells} |")
    return lines


# Tables ------------------------------------------------------------------------------------------------

def table(run: dict) -> str:
    lines = ["| size | endpoint | answer | req/s | p50 ms | p99 ms | alone ms | bytes | SQL/req | × ceiling | errors |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, data in run["sizes"].items():
        for item in data["endpoints"].values():
            errors = sum(item["errors"].values())
            lines.append(f"| {size} | {item['label']} | {item['expected_status']} | {item['rps']:.0f} | "
                         f"{item['p50_ms']:.1f} | {item['p99_ms']:.1f} | {_ms(item.get('alone_ms'))} | "
                         f"{item['bytes']:,} | {item['queries']} | "
                         f"{item['ratio']:.0%} | {errors} |")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def markdown(run: dict) -> str:
    m, s = run["machine"], run["settings"]
    db_version = f"PostgreSQL {m['postgresql']}" if "postgresql" in m else f"SQLite {m['sqlite']}"
    out = [f"# Benchmark results: {run['database']}", "",
           f"Run {run['started_at']} by `make bench` ({run['seconds']} s). Regenerated on each run; see "
           "docs/performance.md for what the figures mean.", "",
           f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Linux {m['kernel']}",
           f"- Software: Python {m['python']}, {db_version}, gunicorn {m['gunicorn']} `{m['gunicorn_args']}`, {m['wrk']}",
           f"- Load: {s.get('rounds', 1)} rounds of {s['seconds']} s per endpoint (each figure from the median round) "
           f"after {s['warmup']} s of warm-up, {s['connections']} connections, "
           f"{s['threads']} wrk threads, "
           + ("connections kept alive" if s.get("keepalive") else "a new connection per request (as nginx opens them)")
           + "; wrk runs on the same machine as the server",
           f"- Load average before / after: {run['load_before']} / {run['load_after']}",
           "- alone ms: the median of one request at a time in process (the Flask test client, no server, no "
           "other load), the same signed-in persona and database", "",
           table(run), ""]
    for size, data in run["sizes"].items():
        workers = ", ".join(f"{w['rss_mb']} MB (peak {w['peak_mb']})" for w in data["workers"])
        seeded = f"seeded in {data['seeded_seconds']} s" if data["seeded_seconds"] is not None else "reused"
        rows = ", ".join(f"{k} {v:,}" for k, v in data["counts"].items() if k != "seconds")
        out += [f"**{size}** ({seeded}): database {_mb(data['database_bytes']['total'])}; "
                f"workers after the run: {workers}.  ", f"Rows: {rows}.", ""]
    out += ["## Capacity on paper", "",
            "Concurrently active librarians one such server holds, each with a page open and polling "
            "(bench/report.py `demand`; docs/performance.md explains the model):", ""]
    out += capacity_rows(run) + [""]
    out += ["## Targets (issue 5, §3)", "", "| target | limit | measured | verdict |", "|---|---|---|---|"]
    out += [f"| {r['target']} | {r['limit']} | {r['value']} | {r['verdict']} |" for r in run["targets"]]
    return "\n".join(out) + "\n"


def write(run: dict) -> tuple[Path, Path]:
    run["javascript"] = javascript()
    run["targets"] = targets(run)
    RESULTS.mkdir(parents=True, exist_ok=True)
    md, js = RESULTS / f"{run['database']}.md", RESULTS / f"{run['database']}.json"
    md.write_text(markdown(run), encoding="utf-8")
    js.write_text(json.dumps(run, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return md, js


def rewrite(database: str) -> Path:
    """Render bench/results/<database>.md again from its .json (after a change to this module)."""
    run = json.loads((RESULTS / f"{database}.json").read_text(encoding="utf-8"))
    run["targets"] = targets(run)
    path = RESULTS / f"{database}.md"
    path.write_text(markdown(run), encoding="utf-8")
    return path


def summary(databases: tuple[str, ...] = ("sqlite", "postgresql")) -> str:
    """One table of both databases' latest runs, for docs/performance.md."""
    runs = {name: json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
            for name in databases if (RESULTS / f"{name}.json").exists()}
    columns = [(name, size) for name, run in runs.items() for size in run["sizes"]]
    head = " | ".join(f"{name} {size}" for name, size in columns)
    lines = [f"| endpoint (req/s · p50 ms · × ceiling · alone ms) | {head} |", "|---|" + "---:|" * len(columns)]
    first = next(iter(runs.values()), None)
    keys = list(first["sizes"][next(iter(first["sizes"]))]["endpoints"]) if first else []
    for key in keys:
        cells, label = [], key
        for name, size in columns:
            item = runs[name]["sizes"][size]["endpoints"].get(key)
            if item is None:
                cells.append("—")
                continue
            label = item["label"]
            cells.append(f"{item['rps']:.0f} · {item['p50_ms']:.0f} · {item['ratio']:.0%} · {_ms(item.get('alone_ms'))}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _verdicts(run: dict) -> dict[str, str]:
    """The targets of one run, one line each, for the summary in docs/performance.md."""
    rows = targets(run)
    out: dict[str, str] = {}
    for prefix, name in (("scaling: ", "scaling: p50 large ≤ 1.5× small"),
                         ("scaling, one request alone: ", "scaling, one request alone: large ≤ 1.5× small")):
        scaling = [r for r in rows if r["target"].startswith(prefix)]
        missed = [f"{r['target'].removeprefix(prefix)} {r['value'].split(' ')[0]}" for r in scaling if not r["ok"]]
        if scaling:
            out[name] = (f"met by {len(scaling) - len(missed)} of {len(scaling)}"
                         + (f"; missed: {', '.join(missed)}" if missed else ""))
    for kind, name in (("page", "full pages ≥ 15 % of ceiling"), ("poll", "polls ≥ 60 % of ceiling")):
        ratios = [item["ratio"] for data in run["sizes"].values() for item in data["endpoints"].values()
                  if item["kind"] == kind]
        limit = PAGE_RATIO if kind == "page" else POLL_RATIO
        met = sum(r >= limit for r in ratios)
        out[name] = f"{'met' if met == len(ratios) else 'missed'}: {min(ratios):.0%}–{max(ratios):.0%} ({met} of {len(ratios)} met)"
    for r in rows:
        if r["target"].startswith(("memory", "page weight (large)", "JavaScript")):
            out[r["target"].replace("page weight (large): ", "page weight: ")] = f"{r['verdict']}: {r['value']}"
    return out


def targets_summary(databases: tuple[str, ...] = ("sqlite", "postgresql")) -> str:
    runs = {name: json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
            for name in databases if (RESULTS / f"{name}.json").exists()}
    verdicts = {name: _verdicts(run) for name, run in runs.items()}
    names = list(verdicts)
    lines = []
    for key in verdicts[names[0]] if names else []:
        lines.append(f"| {key} | " + " | ".join(verdicts[n].get(key, "—") for n in names) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["summary"]:
        print(summary())
        print()
        print(targets_summary())
        sys.exit(0)
    for name in sys.argv[1:] or ["sqlite", "postgresql"]:
        if (RESULTS / f"{name}.json").exists():
            print(rewrite(name))
