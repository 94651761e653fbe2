-- Cancel a queued, scheduled or deferred job (`lensops cancel`); a started one is asked to stop
-- through lensops:stop:<id>, which its worker reads at the next heartbeat.
-- KEYS: none (rq's fixed layout, derived from the id)
-- ARGV[1]: job id; ARGV[2]: now (epoch seconds); ARGV[3]: failure ttl (seconds); ARGV[4]: now (ISO)
-- Returns 'canceled', 'stopping', 'unknown job id' or 'already <status>'.
local id = ARGV[1]
local jkey = 'rq:job:' .. id
local status = redis.call('HGET', jkey, 'status')
if not status then return 'unknown job id' end
local origin = redis.call('HGET', jkey, 'origin')
if status == 'queued' then
  redis.call('LREM', 'rq:queue:' .. origin, 1, id)
elseif status == 'scheduled' or status == 'deferred' then
  redis.call('ZREM', 'rq:' .. status .. ':' .. origin, id)
elseif status == 'started' then
  redis.call('SET', 'lensops:stop:' .. id, ARGV[2], 'EX', 3600)
  return 'stopping'
else
  return 'already ' .. status
end
redis.call('HSET', jkey, 'status', 'canceled', 'ended_at', ARGV[4])
redis.call('ZADD', 'rq:canceled:' .. origin, tonumber(ARGV[2]) + tonumber(ARGV[3]), id)
redis.call('EXPIRE', jkey, ARGV[3])
return 'canceled'
