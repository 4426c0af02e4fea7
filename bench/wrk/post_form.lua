-- A form POST as htmx sends it (a comment, an autosave) with the CSRF token of the signed-in session.
-- bench/run.py passes the url-encoded form in BENCH_BODY and the cookie and htmx headers with -H.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
