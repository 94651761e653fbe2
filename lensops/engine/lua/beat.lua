-- Heartbeat for one or more workers: keep each worker's hash alive and push the started-registry
-- deadline of the job it holds. Sent by the worker itself and, for its children, by the supervisor
-- (which sees them alive locally even while a handler holds the GIL).
-- KEYS: worker hash keys (rq:worker:<name>)
-- ARGV[1]: now (ISO, rq's format); ARGV[2]: now (epoch seconds); ARGV[3]: dead_after (seconds);
-- ARGV[4]: ttl of the worker hash (seconds)
-- Returns {workers whose registration is missing (Redis lost it: the worker registers again; the
-- beat writes nothing for it), {job id, ...} an operator asked to stop}.
local missing, stops = {}, {}
local deadline = tonumber(ARGV[2]) + tonumber(ARGV[3])
for _, wkey in ipairs(KEYS) do
  if redis.call('HEXISTS', wkey, 'lensops_queue') == 0 then
    table.insert(missing, wkey)
  else
    redis.call('HSET', wkey, 'last_heartbeat', ARGV[1])
    redis.call('EXPIRE', wkey, ARGV[4])
    local job = redis.call('HGET', wkey, 'current_job')
    local exec = redis.call('HGET', wkey, 'current_execution')
    if job and exec then
      local origin = redis.call('HGET', 'rq:job:' .. job, 'origin')
      if origin then redis.call('ZADD', 'rq:wip:' .. origin, 'XX', deadline, job .. ':' .. exec) end
      if redis.call('EXISTS', 'lensops:stop:' .. job) == 1 then table.insert(stops, job) end
    end
  end
end
return {missing, stops}
