"""The benchmark's verdicts and capacity figures (bench/report.py) from a run's numbers: a target
that is missed must say so, and the capacity must follow from the measured throughput."""
from __future__ import annotations

from bench import report


def _endpoint(kind: str, rps: float, p50: float, alone: float | None = None, **extra) -> dict:
    return {"label": extra.pop("label", kind), "kind": kind, "rps": rps, "p50_ms": p50, "p99_ms": p50 * 3,
            "alone_ms": alone, "bytes": extra.pop("bytes", 1000), "queries": 2, "expected_status": 200,
            "errors": {}, **extra}


def _size(journal_p50: float, journal_alone: float, poll_rps: float) -> dict:
    ceiling = 4000.0
    endpoints = {
        "ceiling": _endpoint("ceiling", ceiling, 1.0, 0.2),
        "journal": _endpoint("page", 600, journal_p50, journal_alone, label="journal list", bytes=30_000),
        "badge_poll": _endpoint("poll", poll_rps, 2.0, 0.4, label="badge poll", bytes=0),
    }
    for item in endpoints.values():
        item["ratio"] = round(item["rps"] / ceiling, 3)
    return {"endpoints": endpoints, "workers": [{"rss_mb": 100.0, "peak_mb": 110.0}]}


def _verdicts(run: dict) -> dict[str, str]:
    run["javascript"] = {"htmx_bytes": 37_448, "own": {}, "own_bytes": 0, "script_tags_in_templates": 1}
    return {row["target"]: row["verdict"] for row in report.targets(run)}


def test_a_page_twice_as_slow_at_the_large_size_misses_scaling():
    run = {"sizes": {"small": _size(10.0, 4.0, 3000), "large": _size(20.0, 4.4, 3000)}}
    verdicts = _verdicts(run)
    assert verdicts["scaling: journal list"] == "**MISSED**"  # 2.0× under load
    assert verdicts["scaling, one request alone: journal list"] == "met"  # 1.1× alone
    assert verdicts["scaling: badge poll"] == "met"


def test_throughput_shares_are_judged_against_the_ceiling():
    run = {"sizes": {"small": _size(10.0, 4.0, 2000), "large": _size(10.0, 4.0, 2600)}}
    verdicts = _verdicts(run)
    assert verdicts["throughput (small): badge poll"] == "**MISSED**"  # 50 % of the ceiling
    assert verdicts["throughput (large): badge poll"] == "met"  # 65 %
    assert verdicts["throughput (small): journal list"] == "met"  # 15 %
    assert verdicts["page weight (small): journal page, 20 entries"] == "met"


def test_capacity_follows_the_slowest_requests_a_person_makes():
    fast = {key: {"rps": 1000.0} for key in report.demand()}
    slow = dict(fast, entry={"rps": 10.0})
    assert report.capacity(fast) > report.capacity(slow) > 0
    assert report.capacity(fast, poll_factor=2) > report.capacity(fast)
    assert report.capacity({key: fast[key] for key in list(fast)[1:]}) is None  # an endpoint not measured
