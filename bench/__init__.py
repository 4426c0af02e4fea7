"""`make bench`: seed a database at two sizes, serve the real app with gunicorn, drive it with wrk,
and write what was measured to bench/results/ (see docs/performance.md)."""
