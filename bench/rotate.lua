-- wrk script: each request takes the next line of a request log (path?query),
-- cycling. usage: wrk -s bench/rotate.lua ... URL -- REQUEST_LOG
local requests = {}
local index = 0

function init(args)
  local path = args[1] or "requests.txt"
  for line in io.lines(path) do
    if #line > 0 then requests[#requests + 1] = line end
  end
  if #requests == 0 then error("no requests in " .. path) end
  -- Start each wrk thread at a different place in the log.
  index = math.random(#requests) - 1
end

function request()
  index = index % #requests + 1
  return wrk.format("GET", requests[index])
end
