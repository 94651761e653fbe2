-- Take the next job of one lensops queue, highest priority first, and mark it started the way rq
-- does (status, the started registry with a heartbeat deadline, the worker's current job).
-- queue: the lensops queue; its rq queues are <queue>:urgent, <queue>:high, <queue>, <queue>:low
-- (keys.physical_queues). worker (hash key), worker_name, now_iso, deadline, execution (a new id):
-- this claim's. lmpop: LMPOP exists (Redis 7+): one call pops the first non-empty queue.
-- settled: the member this call settled (recorded as the worker's last_settled), or nil.
-- Returns {job id, origin, the values of FIELDS} or false when nothing is waiting.
local FIELDS = {'data', 'timeout', 'result_ttl', 'failure_ttl', 'retries_left', 'retry_intervals',
                'number_of_retries', 'enqueued_at', 'description', 'lensops_attempts_before'}  -- outcomes.CLAIMED_FIELDS

local function pop(queues, lmpop)
  if lmpop then
    local popped = redis.call('LMPOP', 4, queues[1], queues[2], queues[3], queues[4], 'LEFT')
    if popped then return popped[2][1], popped[1] end
    return nil
  end
  for _, qkey in ipairs(queues) do
    local id = redis.call('LPOP', qkey)
    if id then return id, qkey end
  end
  return nil
end

local function claim(queue, worker, worker_name, now_iso, deadline, execution, lmpop, settled)
  -- A call retried after its reply was lost gets the job its first run claimed, not another.
  if redis.call('HGET', worker, 'current_execution') == execution then
    local id = redis.call('HGET', worker, 'current_job')
    local jkey = 'rq:job:' .. id
    return {id, redis.call('HGET', jkey, 'origin'), redis.call('HMGET', jkey, unpack(FIELDS))}
  end
  local extra = {}
  if settled then extra = {'last_settled', settled} end
  if redis.call('EXISTS', 'lensops:paused:' .. queue) == 0 then
    local queues = {'rq:queue:' .. queue .. ':urgent', 'rq:queue:' .. queue .. ':high', 'rq:queue:' .. queue,
                    'rq:queue:' .. queue .. ':low'}
    while true do
      local id, qkey = pop(queues, lmpop)
      if not id then break end
      local jkey = 'rq:job:' .. id
      local fields = redis.call('HMGET', jkey, unpack(FIELDS))  -- read before the claim writes: none of these
      if fields[1] then  -- no data: the job was deleted while queued, its id is dropped
        local origin = string.sub(qkey, 10)
        redis.call('ZADD', 'rq:wip:' .. origin, deadline, id .. ':' .. execution)
        redis.call('HSET', jkey, 'status', 'started', 'started_at', now_iso,
                   'worker_name', worker_name, 'last_heartbeat', now_iso)
        redis.call('HSET', worker, 'current_job', id, 'current_execution', execution, 'state', 'busy',
                   'current_job_working_time', 0, 'last_heartbeat', now_iso, unpack(extra))
        return {id, origin, fields}
      end
    end
  end
  redis.call('HSET', worker, 'state', 'idle', 'last_heartbeat', now_iso, unpack(extra))
  redis.call('HDEL', worker, 'current_job', 'current_execution')
  return false
end
