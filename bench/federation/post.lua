-- wrk script: POST the JSON bodies of BENCH_BODY_FILE (one per line), in turn, and print a JSON summary.
local bodies = {}
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
for line in file:lines() do
  if #line > 0 then bodies[#bodies + 1] = line end
end
file:close()

-- Built in init(), not at load time: wrk sets the Host header and path from the URL only by then.
local requests = {}
init = function(_)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }, body)
  end
end

local next_index = 0
request = function()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
