-- A form POST as htmx sends it (a comment, an autosave) with the CSRF token of the signed-in session.
-- bench/run.py passes the url-encoded form in BENCH_BODY and the cookie and htmx headers with -H.
-- With BENCH_NUMBERED=1, each request's text (the form's last field) ends in its own number: the
-- same comment again from the same person would be taken for one sent twice
-- (webapp.text.sent_again) and saved once.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local sent = 0
if os.getenv("BENCH_NUMBERED") == "1" then
  function request()
    sent = sent + 1
    return wrk.format(nil, nil, nil, wrk.body .. "+%23" .. thread_number .. "." .. sent)
  end
end

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
