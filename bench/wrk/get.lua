-- GET the URL given to wrk (a list page) with the bearer token LOOM_WRK_TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOOM_WRK_TOKEN")
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      "loom-wrk requests=%d duration_us=%d p50_us=%.0f p95_us=%.0f non2xx=%d socket_errors=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
