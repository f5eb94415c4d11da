-- GET one record by a random id: LOOM_WRK_PATH is the path without the id,
-- ids are drawn from LOOM_WRK_FIRST_ID..LOOM_WRK_LAST_ID, LOOM_WRK_TOKEN is the bearer token.
local prefix = os.getenv("LOOM_WRK_PATH")
local first_id = tonumber(os.getenv("LOOM_WRK_FIRST_ID"))
local last_id = tonumber(os.getenv("LOOM_WRK_LAST_ID"))
local threads = 0

wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOOM_WRK_TOKEN")
wrk.headers["Accept"] = "application/json"

function setup(thread)
   threads = threads + 1
   thread:set("thread_number", threads)
end

function init(args)
   -- each thread its own sequence, so two threads do not ask for the same ids in step
   math.randomseed(os.time() * 100 + thread_number)
end

function request()
   return wrk.format("GET", prefix .. math.random(first_id, last_id))
end

function done(summary, latency, requests)
   -- one line for bench/web.py to read; wrk's own report has no 95th percentile
   local errors = summary.errors
   io.write(string.format(
      "loom-wrk requests=%d duration_us=%d p50_us=%.0f p95_us=%.0f non2xx=%d socket_errors=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
