-- wrk script: GET a random path from a file, same seeded sequence for every server.
-- Arguments (after `--`): the paths file, the random seed, an optional Authorization value.
local paths = {}
local headers = { ["Accept"] = "application/fhir+json" }

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  math.randomseed(tonumber(args[2] or "1"))
  if args[3] and #args[3] > 0 then
    headers["Authorization"] = args[3]
  end
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
