-- wrk script of the overload scenario (tests/Benchmarks/overload.sh): clients that honour Retry-After.
-- After a 503, the next request of one of this thread's connections waits what the answer's Retry-After
-- says (seconds; 1 when absent or not a number) times a jitter in [1, 1.5), as a client with a retry policy
-- would (Polly's, a browser's fetch wrapper), instead of coming straight back. wrk asks delay() before every
-- request of a connection whose previous answer is in; the 503s are counted per thread, not per connection,
-- so a backoff may land on a sibling connection of the one refused: the number of waiting connections is
-- what matters for the load. wrk starts each request's latency after its delay: waits are not latency.
-- Without 503s the script changes nothing but wrk's cost of reading each answer's headers, which is why the
-- scenario drives the uncapped gateway it compares with through it too.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local owed = 0
local wait_ms = 1000
unread = 0 -- global: done() reads it from each thread

function init(args)
  -- Each thread its own jitter sequence.
  math.randomseed(os.time() * 100 + id)
end

function response(status, headers, body)
  if status == 503 then
    owed = owed + 1
    -- A number of seconds; an HTTP-date, garbage, a negative or a non-finite value counts as unread (1 s), and a
    -- huge one is capped at a minute: what a server sends must not park a connection for the rest of the run.
    local seconds = tonumber(headers["Retry-After"] or headers["retry-after"])
    if seconds == nil or seconds ~= seconds or seconds < 0 or seconds == math.huge then
      unread = unread + 1
      seconds = 1
    elseif seconds > 60 then
      seconds = 60
    end
    wait_ms = seconds * 1000
  end
end

function delay()
  if owed > 0 then
    owed = owed - 1
    return math.floor(wait_ms * (1 + math.random() * 0.5))
  end
  return 0
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("unread") or 0)
  end
  if total > 0 then
    io.stderr:write(string.format("retry-after.lua: %d 503s without a readable Retry-After (waited 1 s)\n", total))
  end
end
