-- The SSE event log of one session, kept the way `mcpwire_http::server::MemoryEventStore`
-- keeps it: bounded per stream and per session, completed streams dropped after their
-- retention, and the session's oldest events evicted first.
--
-- Every key is the session's, under one hash tag, so the script runs on one Redis Cluster
-- slot. KEYS[1] is the session's hash of counters, KEYS[2] the list of its events in the
-- order they were appended, KEYS[3] the sorted set of its completed streams by the time they
-- expire. The events of stream S are the Redis stream ARGV[2] .. S, each with id
-- `<sequence>-0` and one field `m`, the message.
--
-- ARGV[1] names the operation, ARGV[2] is the prefix of stream keys, ARGV[3] the time now in
-- milliseconds, ARGV[4] how long the session's keys live after its last operation (so that a
-- session whose instance died without ending it goes away); the operation's own arguments
-- follow. Every operation returns, after its own
-- result, the bytes the session holds now and the change in them, for the global bound, which
-- the caller keeps across sessions.

local meta, order, completed = KEYS[1], KEYS[2], KEYS[3]
local operation, prefix, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local start_bytes = tonumber(redis.call('HGET', meta, 'bytes') or '0')

local function stream_key(stream)
  return prefix .. stream
end

local function count(field)
  return tonumber(redis.call('HGET', meta, field) or '0')
end

local function sequence_of(id)
  return tonumber(string.match(id, '^(%d+)-'))
end

-- The first kept event of `stream`: its sequence number and the message, or nil.
local function first_of(stream)
  local first = redis.call('XRANGE', stream_key(stream), '-', '+', 'COUNT', 1)
  if #first == 0 then
    return nil
  end
  return sequence_of(first[1][1]), first[1][2][2]
end

local function note_dropped(stream)
  if tonumber(stream) > count('dropped') then
    redis.call('HSET', meta, 'dropped', stream)
  end
end

-- Evicts the oldest event of `stream`; returns its size, or 0 when the stream has none.
local function evict_first_of(stream)
  local sequence, message = first_of(stream)
  if sequence == nil then
    return 0
  end
  local key = stream_key(stream)
  redis.call('XDEL', key, sequence .. '-0')
  local size = #message
  redis.call('HINCRBY', meta, 'b:' .. stream, -size)
  redis.call('HINCRBY', meta, 'bytes', -size)
  redis.call('HINCRBY', meta, 'events', -1)
  if redis.call('XLEN', key) == 0 then
    -- A stream left with no event takes no room; resuming it is refused as evicted.
    redis.call('DEL', key)
    redis.call('HDEL', meta, 'b:' .. stream)
    note_dropped(stream)
  end
  return size
end

-- Evicts the session's oldest kept event; returns its size, or 0 when it has none. Entries of
-- events already gone are skipped.
local function evict_oldest()
  while true do
    local entry = redis.call('LPOP', order)
    if not entry then
      return 0
    end
    local stream, sequence = string.match(entry, '^(%d+):(%d+)$')
    if first_of(stream) == tonumber(sequence) then
      return evict_first_of(stream)
    end
  end
end

-- Drops every event of `stream`.
local function drop_stream(stream)
  local key = stream_key(stream)
  local events = redis.call('XLEN', key)
  if events == 0 then
    return
  end
  local size = count('b:' .. stream)
  redis.call('DEL', key)
  redis.call('HDEL', meta, 'b:' .. stream)
  redis.call('HINCRBY', meta, 'bytes', -size)
  redis.call('HINCRBY', meta, 'events', -events)
  note_dropped(stream)
end

-- Drops the order entries of events already gone, once they could outnumber the kept events.
local function compact()
  local events = count('events')
  local length = redis.call('LLEN', order)
  if length <= 2 * events + 64 then
    return
  end
  local firsts, kept = {}, {}
  for _, entry in ipairs(redis.call('LRANGE', order, 0, -1)) do
    local stream, sequence = string.match(entry, '^(%d+):(%d+)$')
    if firsts[stream] == nil then
      firsts[stream] = first_of(stream) or false
    end
    if firsts[stream] and tonumber(sequence) >= firsts[stream] then
      kept[#kept + 1] = entry
    end
  end
  redis.call('DEL', order)
  for index = 1, #kept, 1000 do
    redis.call('RPUSH', order, unpack(kept, index, math.min(index + 999, #kept)))
  end
end

-- Drops the completed streams whose retention has passed.
local function expire()
  local due = redis.call('ZRANGEBYSCORE', completed, '-inf', now)
  if #due == 0 then
    return
  end
  for _, stream in ipairs(due) do
    drop_stream(stream)
  end
  redis.call('ZREMRANGEBYSCORE', completed, '-inf', now)
  compact()
end

-- Appends the result's tail: the bytes the session holds now, and the change. Every key of
-- the session lives `ttl` more.
local function finish(result)
  local bytes = count('bytes')
  for _, field in ipairs(redis.call('HKEYS', meta)) do
    local stream = string.match(field, '^b:(%d+)$')
    if stream then
      redis.call('PEXPIRE', stream_key(stream), ttl)
    end
  end
  for _, key in ipairs({meta, order, completed}) do
    redis.call('PEXPIRE', key, ttl)
  end
  result[#result + 1] = bytes
  result[#result + 1] = bytes - start_bytes
  return result
end

expire()

if operation == 'append' then
  local stream, sequence, message = ARGV[5], tonumber(ARGV[6]), ARGV[7]
  local max_events, max_stream_bytes, max_session_bytes =
    tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
  local key = stream_key(stream)
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #last > 0 and sequence ~= sequence_of(last[1][1]) + 1 then
    -- Out of sequence: the service never does this; keep the log without a gap.
    return finish({0})
  end
  redis.call('XADD', key, sequence .. '-0', 'm', message)
  redis.call('HINCRBY', meta, 'b:' .. stream, #message)
  redis.call('HINCRBY', meta, 'bytes', #message)
  redis.call('HINCRBY', meta, 'events', 1)
  redis.call('RPUSH', order, stream .. ':' .. sequence)
  while true do
    local events = redis.call('XLEN', key)
    if not (events > max_events or (count('b:' .. stream) > max_stream_bytes and events > 1)) then
      break
    end
    if evict_first_of(stream) == 0 then
      break
    end
  end
  while count('bytes') > max_session_bytes and count('events') > 1 do
    if evict_oldest() == 0 then
      break
    end
  end
  compact()
  return finish({1})
elseif operation == 'evict_oldest' then
  -- For the global bound: the caller picked this session as the one holding the most.
  if count('events') > 0 then
    evict_oldest()
    compact()
  end
  return finish({1})
elseif operation == 'replay' then
  local stream, after = ARGV[5], tonumber(ARGV[6])
  local first = first_of(stream)
  if first == nil then
    if tonumber(stream) <= count('dropped') then
      return finish({'evicted'})
    end
    return finish({'unknown'})
  end
  if after + 1 < first then
    return finish({'evicted'})
  end
  local last = redis.call('XREVRANGE', stream_key(stream), '+', '-', 'COUNT', 1)
  if after > sequence_of(last[1][1]) then
    return finish({'unknown'})
  end
  local result = {'ok'}
  local events = redis.call('XRANGE', stream_key(stream), (after + 1) .. '-0', '+')
  local flat = {}
  for _, event in ipairs(events) do
    flat[#flat + 1] = sequence_of(event[1])
    flat[#flat + 1] = event[2][2]
  end
  result[2] = flat
  return finish(result)
elseif operation == 'complete' then
  -- A completed stream (retention of completed streams) or one whose client was handed every
  -- event (the shorter retention of delivered streams), in either order: the earlier
  -- deadline holds.
  local stream, retention = ARGV[5], tonumber(ARGV[6])
  if redis.call('XLEN', stream_key(stream)) > 0 then
    if retention <= 0 then
      drop_stream(stream)
      compact()
    else
      local deadline = now + retention
      local current = redis.call('ZSCORE', completed, stream)
      if not current or tonumber(current) > deadline then
        redis.call('ZADD', completed, deadline, stream)
      end
    end
  end
  return finish({1})
elseif operation == 'forget' then
  for _, field in ipairs(redis.call('HKEYS', meta)) do
    local stream = string.match(field, '^b:(%d+)$')
    if stream then
      redis.call('DEL', stream_key(stream))
    end
  end
  redis.call('DEL', meta, order, completed)
  return finish({1})
end
return redis.error_reply('unknown operation ' .. tostring(operation))
