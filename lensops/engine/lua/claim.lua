-- Take the next job of one lensops queue, highest priority first, and mark it started the way rq
-- does (status, started registry with a heartbeat deadline, execution record, worker's current job).
-- spec (decoded JSON, the same for every claim of a worker): paused (key), worker (hash key), queues
-- (rq queue keys, highest priority first), worker_name, ttl, fields (the job fields to return).
-- now, now_iso, deadline, execution (a new id): this claim's.
-- Returns {job id, origin, the values of spec.fields} or false when nothing is waiting.
local function claim(spec, now, now_iso, deadline, execution)
  -- A call retried after its reply was lost gets the job its first run claimed, not another.
  if redis.call('HGET', spec.worker, 'current_execution') == execution then
    local id = redis.call('HGET', spec.worker, 'current_job')
    local jkey = 'rq:job:' .. id
    return {id, redis.call('HGET', jkey, 'origin'), redis.call('HMGET', jkey, unpack(spec.fields))}
  end
  if redis.call('EXISTS', spec.paused) == 1 then return false end
  for _, qkey in ipairs(spec.queues) do
    while true do
      local id = redis.call('LPOP', qkey)
      if not id then break end
      local jkey = 'rq:job:' .. id
      if redis.call('EXISTS', jkey) == 1 then
        local origin = string.sub(qkey, 10)
        redis.call('ZADD', 'rq:wip:' .. origin, deadline, id .. ':' .. execution)
        redis.call('HSET', jkey, 'status', 'started', 'started_at', now_iso,
                   'worker_name', spec.worker_name, 'last_heartbeat', now_iso)
        local ekey = 'rq:execution:' .. id .. ':' .. execution
        redis.call('HSET', ekey, 'id', execution, 'created_at', now, 'last_heartbeat', now,
                   'worker_name', spec.worker_name)
        redis.call('EXPIRE', ekey, spec.ttl)
        redis.call('ZADD', 'rq:executions:' .. id, deadline + 60, execution)
        redis.call('EXPIRE', 'rq:executions:' .. id, spec.ttl + 60)
        redis.call('HSET', spec.worker, 'current_job', id, 'current_execution', execution, 'state', 'busy',
                   'current_job_working_time', 0, 'last_heartbeat', now_iso)
        redis.call('EXPIRE', spec.worker, spec.ttl)  -- never leave a hash without a TTL behind
        return {id, origin, redis.call('HMGET', jkey, unpack(spec.fields))}
      end
    end
  end
  redis.call('HSET', spec.worker, 'state', 'idle', 'last_heartbeat', now_iso)
  redis.call('HDEL', spec.worker, 'current_job', 'current_execution')
  redis.call('EXPIRE', spec.worker, spec.ttl)
  return false
end
