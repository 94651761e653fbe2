"""The Lua scripts that make each engine step one atomic Redis round trip.

They touch rq's keys exactly as rq itself would (job hashes, queue lists, registries), so jobs stay
readable by ``rq info`` and rq-dashboard.
"""

from __future__ import annotations

from typing import Any

import redis

# Create the job hash and push its id, unless a job with that id exists (ids are idempotency keys:
# a spool replay or a retried call after a lost reply never enqueues twice).
# KEYS: job hash, queue list (or scheduled zset), wake-up list
# ARGV: mode ("queue"|"schedule"|"front"), score, job id, queue key for rq:queues, field, value...
ENQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('SADD', 'rq:queues', ARGV[4])
if ARGV[1] == 'schedule' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
else
  if ARGV[1] == 'front' then redis.call('LPUSH', KEYS[2], ARGV[3]) else redis.call('RPUSH', KEYS[2], ARGV[3]) end
  redis.call('LPUSH', KEYS[3], 1)
  redis.call('LTRIM', KEYS[3], 0, 63)
end
return 1
"""

# Take the next job of one lensops queue, highest priority first, and mark it started the way rq
# does (status, started registry with a heartbeat deadline, execution record, worker's current job).
_CLAIM_FUNCTION = """
local function claim(spec)
  -- A call retried after its reply was lost gets the job its first run claimed, not another.
  if redis.call('HGET', spec.worker, 'current_execution') == spec.execution then
    local id = redis.call('HGET', spec.worker, 'current_job')
    local jkey = 'rq:job:' .. id
    return {id, redis.call('HGET', jkey, 'origin'), redis.call('HGETALL', jkey)}
  end
  if redis.call('EXISTS', spec.paused) == 1 then return false end
  for _, qkey in ipairs(spec.queues) do
    while true do
      local id = redis.call('LPOP', qkey)
      if not id then break end
      local jkey = 'rq:job:' .. id
      if redis.call('EXISTS', jkey) == 1 then
        local origin = string.sub(qkey, 10)
        local exec = spec.execution
        redis.call('ZADD', 'rq:wip:' .. origin, spec.deadline, id .. ':' .. exec)
        redis.call('HSET', jkey, 'status', 'started', 'started_at', spec.now_iso,
                   'worker_name', spec.worker_name, 'last_heartbeat', spec.now_iso)
        local ekey = 'rq:execution:' .. id .. ':' .. exec
        redis.call('HSET', ekey, 'id', exec, 'created_at', spec.now, 'last_heartbeat', spec.now,
                   'worker_name', spec.worker_name)
        redis.call('EXPIRE', ekey, spec.ttl)
        redis.call('ZADD', 'rq:executions:' .. id, spec.deadline + 60, exec)
        redis.call('EXPIRE', 'rq:executions:' .. id, spec.ttl + 60)
        redis.call('HSET', spec.worker, 'current_job', id, 'current_execution', exec, 'state', 'busy',
                   'current_job_working_time', 0, 'last_heartbeat', spec.now_iso)
        return {id, origin, redis.call('HGETALL', jkey)}
      end
    end
  end
  redis.call('HSET', spec.worker, 'state', 'idle', 'last_heartbeat', spec.now_iso)
  redis.call('HDEL', spec.worker, 'current_job', 'current_execution')
  return false
end
"""

# Settle one execution and optionally claim the next job, in one round trip.
# The bookkeeping commands (ARGV[2], JSON: a list of commands whose numeric arguments are indexes
# into ARGV) run only if this execution still owns its started-registry entry: if a sweeper already
# declared the worker dead and handled the job, a late result is dropped instead of applied twice.
# KEYS[1]: started registry; ARGV[1]: registry member ('' = no guard); ARGV[3]: claim spec JSON or '';
# ARGV[4]: guard options JSON or '': `worker` (its hash remembers the last member it settled, so a
# call retried after a lost reply knows the first one applied) and `lapsed_before` (the sweeper:
# leave an entry whose worker heartbeated since the sweeper looked).
# Returns {owned (0 not ours, 1 applied, 2 applied by an earlier try), claimed job or false, has dependents}.
SETTLE = (
    _CLAIM_FUNCTION
    + """
local options = {}
if ARGV[4] ~= '' then options = cjson.decode(ARGV[4]) end
local member = ARGV[1]
local owned = 1
if member ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score and options.lapsed_before and tonumber(score) > tonumber(options.lapsed_before) then
    owned = 0
  elseif score then
    redis.call('ZREM', KEYS[1], member)
  elseif options.worker and redis.call('HGET', options.worker, 'last_settled') == member then
    owned = 2
  else
    owned = 0
  end
end
if owned == 1 and ARGV[2] ~= '' then
  for _, op in ipairs(cjson.decode(ARGV[2])) do
    local args = {}
    for i, a in ipairs(op) do
      if type(a) == 'number' then args[i] = ARGV[a] else args[i] = a end
    end
    redis.call(unpack(args))
  end
  if options.worker then redis.call('HSET', options.worker, 'last_settled', member) end
end
local deps = 0
if owned ~= 0 and member ~= '' then
  deps = redis.call('EXISTS', 'rq:job:' .. string.match(member, '^(.*):[^:]*$') .. ':dependents')
end
local claimed = false
if ARGV[3] ~= '' then claimed = claim(cjson.decode(ARGV[3])) end
return {owned, claimed, deps}
"""
)

# Move due scheduled jobs (delayed jobs, retry backoffs) of the given rq queues onto their queues.
# KEYS: pairs of (scheduled zset, queue list); ARGV[1]: now; ARGV[2]: wake-up list; ARGV[3]: batch size
PROMOTE = """
local moved = 0
for i = 1, #KEYS, 2 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
  for _, id in ipairs(due) do
    redis.call('ZREM', KEYS[i], id)
    local jkey = 'rq:job:' .. id
    if redis.call('EXISTS', jkey) == 1 then
      redis.call('HSET', jkey, 'status', 'queued')
      redis.call('RPUSH', KEYS[i + 1], id)
      moved = moved + 1
    end
  end
end
if moved > 0 then
  redis.call('LPUSH', ARGV[2], 1)
  redis.call('LTRIM', ARGV[2], 0, 63)
end
return moved
"""


class Commands:
    """Builds the bookkeeping command list for SETTLE: literal command names, values by ARGV index."""

    def __init__(self) -> None:
        self.argv: list[Any] = []
        self.ops: list[list[Any]] = []

    def add(self, command: str, *args: Any) -> Commands:
        op: list[Any] = [command]
        for arg in args:
            self.argv.append(arg)
            op.append(len(self.argv) + 4)  # ARGV[1..4]: the member, the ops, the claim spec, the options
        self.ops.append(op)
        return self

    def __bool__(self) -> bool:
        return bool(self.ops)


class Scripts:
    """The scripts registered on one connection (EVALSHA after the first call)."""

    def __init__(self, connection: redis.Redis):
        self.enqueue = connection.register_script(ENQUEUE)
        self.settle = connection.register_script(SETTLE)
        self.promote = connection.register_script(PROMOTE)
