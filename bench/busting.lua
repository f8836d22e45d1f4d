-- wrk script: every request asks for a page no one asked for before (a random
-- pageId), as a cache-busting client does. usage: wrk -s bench/busting.lua URL
-- -- TENANT CHANNEL PAGETYPE
local prefix
local counter = 0

function init(args)
  prefix = string.format("/api/v2/tempo/layouts?tenant=%s&channel=%s&pageType=%s&pageId=",
                         args[1] or "ACME", args[2] or "web", args[3] or "product")
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  counter = counter + 1
  return wrk.format("GET", prefix .. string.format("b%08x-%d", math.random(0, 0x7fffffff),
                                                   counter))
end
