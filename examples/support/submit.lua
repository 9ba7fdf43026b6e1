-- wrk script for examples/submit_bench.rs: each request answers a fresh survey link.
-- Arguments (after `--`): a file of `token<TAB>form body` lines, and the number of wrk
-- threads; thread i takes lines i, i + threads, … so no link is used twice.
-- Every answer that is not acknowledged with 303 (e.g. a repeated link) is counted and
-- the total printed at the end as `Not 303 responses: N`.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  threads[#threads + 1] = thread
  counter = counter + 1
end

function init(args)
  rows = {}
  local threads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % threads == id then
      rows[#rows + 1] = line
    end
    n = n + 1
  end
  i = 0
  not_acknowledged = 0
end

function response(status, headers, body)
  if status ~= 303 then
    not_acknowledged = not_acknowledged + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_acknowledged")
  end
  io.write(string.format("Not 303 responses: %d\n", total))
end

function request()
  i = i + 1
  -- Past the last line the links repeat: those answers are refused (not 3xx) and counted.
  local row = rows[((i - 1) % #rows) + 1]
  local tab = row:find("\t", 1, true)
  return wrk.format("POST", "/s/" .. row:sub(1, tab - 1),
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, row:sub(tab + 1))
end
