-- wrk script for examples/submit_bench.rs: each request answers a fresh survey link.
-- Arguments (after `--`): a file of `token<TAB>form body` lines, and the number of wrk
-- threads; thread i takes lines i, i + threads, … so no link is used twice.
local counter = 0

function setup(thread)
  thread:set("id", counter)
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
end

function request()
  i = i + 1
  -- Past the last line the links repeat: those answers are refused (not 3xx) and counted.
  local row = rows[((i - 1) % #rows) + 1]
  local tab = row:find("\t", 1, true)
  return wrk.format("POST", "/s/" .. row:sub(1, tab - 1),
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, row:sub(tab + 1))
end
