-- SPDX-License-Identifier: Apache-2.0
-- wrk script for the proxy benchmark. With BENCH_TARGET=HOST:PORT set, every request is sent in
-- absolute-URI form (RFC 9112 §3.2.2: "GET http://HOST:PORT/PATH HTTP/1.1", Host: HOST:PORT) to whatever
-- address wrk connects to, i.e. the forward proxy under test; without it wrk's URL is used as is (direct).
-- BENCH_PATH is the path on the origin. done() prints "requests/s p99-ms errors" on one line.
local target = os.getenv("BENCH_TARGET")
local path = os.getenv("BENCH_PATH") or "/"

if target and target ~= "" then
   wrk.path = "http://" .. target .. path
   wrk.headers["Host"] = target
else
   wrk.path = path
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("%.0f %.2f %d\n", summary.requests / (summary.duration / 1e6),
                          latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
