-- wrk script for bench:router. The bench runs wrk with as many threads as connections (-t N -c N),
-- so each thread drives exactly one keep-alive connection and a per-thread user is a per-connection
-- user: every request on a connection carries that user's cookie, as a returning browser would.
-- Defining init but no request() keeps wrk's request static (built once per thread), so no Lua runs
-- per request and the load generator stays cheap.

local cookie = os.getenv("BENCH_COOKIE") or "rollout-user"
local next_user = 0

function setup(thread)
  next_user = next_user + 1
  thread:set("user_id", string.format("bench-user-%04d", next_user))
end

function init(args)
  wrk.headers["Cookie"] = cookie .. "=" .. user_id
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
