-- Enqueue a chunk of jobs (enqueue.lua for many, in one round trip); an id that exists is skipped.
-- KEYS: none (every key is rq's fixed layout, derived from the ids and queues)
-- ARGV[1]: now (rq's ISO format); ARGV[2]: JSON list of field lists, one per (type, queue,
-- priority) the chunk uses, each starting "origin", <rq queue>; then 5 per job: id, mode
-- ("queue" | "schedule"), score, index into ARGV[2] (from 1), data.
-- Returns a list of 1 (created) or 0 (the id existed), one per job.
local groups = cjson.decode(ARGV[2])
local created, woken, listed = {}, {}, {}
for i = 3, #ARGV, 5 do
  local id, mode, score, group, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], groups[tonumber(ARGV[i + 3])], ARGV[i + 4]
  local jkey = 'rq:job:' .. id
  if redis.call('EXISTS', jkey) == 1 then
    table.insert(created, 0)
  else
    local origin = group[2]
    local status = 'queued'
    if mode == 'schedule' then status = 'scheduled' end
    redis.call('HSET', jkey, 'data', data, 'created_at', ARGV[1], 'enqueued_at', ARGV[1], 'status', status,
               unpack(group))
    if mode == 'schedule' then
      redis.call('ZADD', 'rq:scheduled:' .. origin, score, id)
    else
      redis.call('RPUSH', 'rq:queue:' .. origin, id)
      local logical = string.match(origin, '^[^:]+')
      woken[logical] = (woken[logical] or 0) + 1
    end
    if not listed[origin] then
      redis.call('SADD', 'rq:queues', 'rq:queue:' .. origin)
      listed[origin] = true
    end
    table.insert(created, 1)
  end
end
for logical, count in pairs(woken) do
  local tokens = {}
  for _ = 1, math.min(count, 64) do table.insert(tokens, 1) end
  redis.call('LPUSH', 'lensops:wakeup:' .. logical, unpack(tokens))
  redis.call('LTRIM', 'lensops:wakeup:' .. logical, 0, 63)
end
return created
