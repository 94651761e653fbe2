-- Enqueue a chunk of jobs (enqueue.lua for many, in one round trip); an id that exists is skipped.
-- KEYS: none (every key is rq's fixed layout, derived from the ids and queues)
-- ARGV[1]: now (rq's ISO format); ARGV[2]: JSON list of field lists, one per (type, queue,
-- priority) the chunk uses, each starting "origin", <rq queue>; then 5 per job: id, mode
-- ("queue" | "schedule"), score, index into ARGV[2] (from 1), data.
-- Returns a list of 1 (created) or 0 (the id existed), one per job.
local groups = cjson.decode(ARGV[2])
local created, queued, scheduled = {}, {}, {}
for i = 3, #ARGV, 5 do
  local id, mode, score, group, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], groups[tonumber(ARGV[i + 3])], ARGV[i + 4]
  local jkey = 'rq:job:' .. id
  if redis.call('EXISTS', jkey) == 1 then
    table.insert(created, 0)
  else
    local origin = group[2]
    if mode == 'schedule' then
      redis.call('HSET', jkey, 'data', data, 'created_at', ARGV[1], 'enqueued_at', ARGV[1], 'status', 'scheduled',
                 unpack(group))
      scheduled[origin] = scheduled[origin] or {}
      table.insert(scheduled[origin], score)
      table.insert(scheduled[origin], id)
    else
      redis.call('HSET', jkey, 'data', data, 'created_at', ARGV[1], 'enqueued_at', ARGV[1], 'status', 'queued',
                 unpack(group))
      queued[origin] = queued[origin] or {}
      table.insert(queued[origin], id)
    end
    table.insert(created, 1)
  end
end
-- One push per queue for the whole chunk (in slices: unpack's arguments live on Lua's C stack).
local function each_slice(list, size, action)
  for first = 1, #list, size do action(unpack(list, first, math.min(first + size - 1, #list))) end
end
for origin, ids in pairs(queued) do
  redis.call('SADD', 'rq:queues', 'rq:queue:' .. origin)
  each_slice(ids, 500, function(...) redis.call('RPUSH', 'rq:queue:' .. origin, ...) end)
  local logical = string.match(origin, '^[^:]+')
  local tokens = {}
  for _ = 1, math.min(#ids, 64) do table.insert(tokens, 1) end
  redis.call('LPUSH', 'lensops:wakeup:' .. logical, unpack(tokens))
  redis.call('LTRIM', 'lensops:wakeup:' .. logical, 0, 63)
end
for origin, pairs_ in pairs(scheduled) do
  redis.call('SADD', 'rq:queues', 'rq:queue:' .. origin)
  each_slice(pairs_, 500, function(...) redis.call('ZADD', 'rq:scheduled:' .. origin, ...) end)  -- even: pairs stay whole
end
return created
