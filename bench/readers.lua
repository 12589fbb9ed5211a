-- The benches' wrk script. Every request comes from a client network never seen before, as
-- a new reader on the open internet does: X-Forwarded-For (the app trusts one proxy hop in
-- the bench) counts up through 10.0.0.0/8, the threads interleaved, so no network takes
-- more than one full text from the cookieless bounds (20 a day by default) in a run.
-- Every response is checked: arguments after "--" are wrk's thread count and what each
-- response must be, "full" (no paywall), "teaser" or "any" (any 200); done() prints how
-- many were not. A third argument names a file of paths, one per line: each request then
-- reads one picked at random (bench/invalidation.py's load) instead of the URL's path.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  step = tonumber(args[1])
  want = args[2]
  client = 10 * 16777216 + id
  unexpected = 0
  if args[3] then
    paths = {}
    for line in io.lines(args[3]) do
      table.insert(paths, line)
    end
    math.randomseed(os.time() + id)
  end
end

function request()
  local n = client
  client = client + step
  wrk.headers["X-Forwarded-For"] = string.format(
    "%d.%d.%d.%d",
    math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256
  )
  if paths then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  return wrk.format()
end

function response(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  elseif want ~= "any" and (string.find(body, 'class="paywall"', 1, true) ~= nil) ~= (want == "teaser") then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("bench: responses not as expected: %d\n", total))
end
