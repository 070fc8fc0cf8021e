-- The global bound of the event store: the bytes every session holds, and which session holds
-- the most. KEYS[1] is the hash of the total, KEYS[2] the sorted set of sessions by the bytes
-- they hold, both under one hash tag of their own.
--
-- ARGV[1] is a session, ARGV[2] the bytes it holds now, ARGV[3] the change in them that its
-- last operation made, ARGV[4] the global bound. Returns the total, and when it is over the
-- bound, the session holding the most (which gives up its oldest event next) with the bytes
-- recorded for it.

local total = redis.call('HINCRBY', KEYS[1], 'bytes', ARGV[3])
if total < 0 then
  -- Sessions whose keys expired without an end took their bytes with them.
  redis.call('HSET', KEYS[1], 'bytes', 0)
  total = 0
end
if tonumber(ARGV[2]) > 0 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
if total > tonumber(ARGV[4]) then
  local largest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #largest > 0 then
    return {total, largest[1], tonumber(largest[2])}
  end
end
return {total}
