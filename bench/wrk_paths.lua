-- wrk script of bench/http_load.py: rotate over the paths in WRK_PATHS (one per line) with
-- the headers in WRK_HEADERS (a flat JSON object of strings); at the end print one line
-- "JSON {...}" with requests per second, latency percentiles (seconds) and errors.
local paths = {}
for line in string.gmatch(os.getenv("WRK_PATHS") or "/", "[^\n]+") do
  table.insert(paths, line)
end
local headers = {}
for key, value in string.gmatch(os.getenv("WRK_HEADERS") or "{}", '"([^"]+)"%s*:%s*"([^"]*)"') do
  headers[key] = value
end
local counter = 0

request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  return wrk.format("GET", path, headers)
end

done = function(summary, latency, _)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %.3f, "requests_per_second": %.2f, "p50": %.6f, '
      .. '"p90": %.6f, "p99": %.6f, "max": %.6f, "socket_errors": %d, "non_2xx_3xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1e6, latency:percentile(90) / 1e6, latency:percentile(99) / 1e6,
    latency.max / 1e6, errors, summary.errors.status))
end
