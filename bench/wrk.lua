-- Replays the requests listed in the file named by $BENCH_REQUESTS, round robin, each thread
-- starting at its own place. One request per line, tab-separated:
--   METHOD <tab> PATH <tab> BODY <tab> Header: value <tab> Header: value ...
-- Requests are built once in init() so the load generator spends almost no CPU per request.
-- done() prints one JSON line with the figures bench/__main__.py reads.

local counter = 0
local requests = {}

local function split(line, sep)
  local out, start = {}, 1
  while true do
    local i = string.find(line, sep, start, true)
    if not i then table.insert(out, string.sub(line, start)); return out end
    table.insert(out, string.sub(line, start, i - 1))
    start = i + 1
  end
end

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 7919
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  for line in file:lines() do
    if #line > 0 then
      local f = split(line, "\t")
      local headers = {}
      for i = 4, #f do
        local k, v = string.match(f[i], "^([^:]+): (.*)$")
        if k then headers[k] = v end
      end
      local body = f[3] ~= "" and f[3] or nil
      table.insert(requests, wrk.format(f[1], f[2], headers, body))
    end
  end
  file:close()
  position = (offset or 0) % #requests
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, ' ..
    '"errors_timeout": %d, "bytes": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
