-- wrk script for the API benchmarks.
-- WRK_PLAN (optional): a file of requests, one per line: METHOD<TAB>PATH<TAB>BEARER-TOKEN<TAB>JSON-BODY
-- (token and body may be empty). Each thread walks the plan from its own offset, so a run rotates over
-- many members, courses, … instead of hammering one row. Without a plan, wrk's own request is sent.
-- done() prints one machine-readable line with the percentiles wrk does not show by default (p95).
local plan = os.getenv("WRK_PLAN")
local threads = 0

setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

init = function(args)
  requests = {}
  if plan and plan ~= "" then
    for line in io.lines(plan) do
      local method, path, token, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)\t?(.*)$")
      if method then
        local headers = {}
        if token ~= "" then headers["Authorization"] = "Bearer " .. token end
        if body ~= "" then
          headers["Content-Type"] = "application/json"
        else
          body = nil
        end
        requests[#requests + 1] = wrk.format(method, path, headers, body)
      end
    end
  end
  index = (tid or 0) * 7919
end

request = function()
  if #requests == 0 then
    return wrk.request()
  end
  index = index + 1
  return requests[(index % #requests) + 1]
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"errors\": %d, \"status_errors\": %d, \"timeouts\": %d, \"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d}\n",
    summary.requests, summary.duration, errors, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
