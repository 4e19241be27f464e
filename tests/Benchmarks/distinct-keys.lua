-- wrk script of the cache_memory scenario (tests/Benchmarks/run.sh): every request asks for another key,
-- GET <path>?k=<run>-<thread>-<n>, so that a per-source response cache keyed by the expanded downstream
-- URL misses every time and keeps filling. <run> is the script argument (wrk ... <url> -- <run>): each
-- wrk run of the benchmark passes its own, so no two runs share a key either.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local prefix
local counter = 0

function init(args)
  prefix = (args[1] or "run") .. "-" .. id .. "-"
end

function request()
  counter = counter + 1
  local separator = "?"
  if string.find(wrk.path, "?", 1, true) then separator = "&" end
  return wrk.format("GET", wrk.path .. separator .. "k=" .. prefix .. counter)
end
