-- One wrk script for every scenario of bench/run.py.
--
-- BENCH_REQUESTS  a file of requests, one a line: "<path>" or "<path>\t<json body>";
--                 each request picks one line at random
-- BENCH_METHOD    GET (default) or POST
-- BENCH_TOKEN     the bearer token
-- BENCH_DELAY_MS  pause before each request on a connection (0: as fast as possible);
--                 bench/run.py sets it so all connections together send the target rate
--
-- done() prints two lines bench/run.py reads: the status counts over all threads and
-- the latency percentiles in microseconds.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths, bodies, statuses = {}, {}, {}
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local path, body = line:match("^([^\t]*)\t?(.*)$")
    table.insert(paths, path)
    table.insert(bodies, body)
  end
  method = os.getenv("BENCH_METHOD") or "GET"
  auth = "Bearer " .. os.getenv("BENCH_TOKEN")
  pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
  -- Each thread draws its own sequence.
  math.randomseed(os.time() * 1000 + tonumber(tostring(paths):match("0x(%x+)") or "0", 16) % 1000)
end

function request()
  local i = math.random(#paths)
  local headers = { ["Authorization"] = auth, ["Accept"] = "application/json" }
  if bodies[i] ~= "" then
    headers["Content-Type"] = "application/json"
    return wrk.format(method, paths[i], headers, bodies[i])
  end
  return wrk.format(method, paths[i], headers)
end

function delay()
  return pause
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + n
    end
  end
  io.write("BENCH_STATUSES")
  for code, n in pairs(total) do
    io.write(" ", code, "=", n)
  end
  io.write("\n")
  io.write(string.format("BENCH_LATENCY_US %d %d %d %d %d\n", latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, summary.requests))
end
