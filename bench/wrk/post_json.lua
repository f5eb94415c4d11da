-- POST a JSON body to LOOM_WRK_PATH with the bearer token LOOM_WRK_TOKEN. "{n}" in the body
-- template LOOM_WRK_BODY becomes a number unique to the request, so no two posts are duplicates.
local path = os.getenv("LOOM_WRK_PATH")
local template = os.getenv("LOOM_WRK_BODY")
local threads = 0
local sent = 0

wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOOM_WRK_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

function setup(thread)
   threads = threads + 1
   thread:set("thread_number", threads)
end

function request()
   sent = sent + 1
   local body = template:gsub("{n}", thread_number .. "-" .. sent)
   return wrk.format("POST", path, nil, body)
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      "loom-wrk requests=%d duration_us=%d p50_us=%.0f p95_us=%.0f non2xx=%d socket_errors=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
