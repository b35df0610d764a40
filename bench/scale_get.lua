-- wrk script for bench/scale.py's mixed load: one kind of request, from a file of lines
-- (LINES). Each line is a path to GET or, with FORM set, a form body to POST to FORM with the
-- COOKIE header (a signed-in desk session). Prints percentiles as one JSON line at the end.
local lines = {}
for line in io.lines(os.getenv("LINES")) do
  table.insert(lines, line)
end
local form = os.getenv("FORM")
local headers = {["Accept-Encoding"] = "gzip, deflate, br"}
if form then
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Cookie"] = os.getenv("COOKIE")
end

request = function()
  local line = lines[math.random(#lines)]
  if form then
    return wrk.format("POST", form, headers, line)
  end
  return wrk.format("GET", line, headers)
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
