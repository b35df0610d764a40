-- wrk script: realistic registrations (a family of three), or a mix of page views and
-- submissions when MIX is set. Prints percentiles as one JSON line at the end.
local token = os.getenv("TOKEN")
local mix = os.getenv("MIX")
-- Status page paths, one a line (a file: thousands would not fit in one environment string).
local statuses = {}
if os.getenv("STATUS_FILE") then
  for path in io.lines(os.getenv("STATUS_FILE")) do
    table.insert(statuses, path)
  end
end
local family = [[{"language":"uk","consent":{"data_processing":true},"postal_code":"14467",
"address":{"street":"Friedrich-Ebert-Str.","house_number":"79","postal_code":"14467","city":"Potsdam"},
"entry_date":"2026-11-20","contact":{"email":"olena@example.org","phone":"+4915112345678"},
"persons":[{"role":"applicant","family_name":"Shevchenko","given_names":"Olena","sex":"female",
"date_of_birth":"1990-05-01","place_of_birth":"Kyiv","country_of_birth":"UA","nationalities":["UA"],
"marital_status":"married","document":{"type":"passport","number":"FE123456","issuing_country":"UA"}},
{"role":"spouse","family_name":"Shevchenko","given_names":"Taras","sex":"male",
"date_of_birth":"1988-02","place_of_birth":"Lviv","country_of_birth":"UA","nationalities":["UA"]},
{"role":"child","family_name":"Shevchenko","given_names":"Andrii","sex":"male",
"date_of_birth":"2015","place_of_birth":null,"country_of_birth":"UA","nationalities":["UA"]}]}]]
local post_headers = {["Authorization"] = "Bearer " .. (token or ""),
                      ["Content-Type"] = "application/json"}
local pages = {"/de/", "/uk/", "/ar/"}
-- What phones' browsers accept: Chrome and Firefox on Android, Safari on iOS.
local browsers = {{["Accept-Encoding"] = "gzip, deflate, br, zstd"},
                  {["Accept-Encoding"] = "gzip, deflate, br"}}

request = function()
  if mix then
    local pick = math.random(100)
    if pick <= 40 then
      return wrk.format("GET", pages[math.random(#pages)], browsers[math.random(#browsers)])
    elseif pick <= 70 and #statuses > 0 then
      return wrk.format("GET", statuses[math.random(#statuses)], browsers[math.random(#browsers)])
    elseif pick <= 85 and #statuses > 0 then
      return wrk.format("GET", statuses[math.random(#statuses)] .. "/qr.png")
    end
  end
  return wrk.format("POST", "/api/v1/registrations", post_headers, family)
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
