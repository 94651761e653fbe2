-- Move due scheduled jobs (delayed jobs, retry backoffs) of the given rq queues onto their queues.
-- KEYS: pairs of (scheduled zset, queue list); ARGV[1]: now; ARGV[2]: wake-up list; ARGV[3]: batch size;
-- ARGV[4]: now in rq's ISO format, the job's new enqueued_at (as rq's scheduler does: its wait starts now)
local moved = 0
for i = 1, #KEYS, 2 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
  for _, id in ipairs(due) do
    redis.call('ZREM', KEYS[i], id)
    local jkey = 'rq:job:' .. id
    if redis.call('EXISTS', jkey) == 1 then
      redis.call('HSET', jkey, 'status', 'queued', 'enqueued_at', ARGV[4])
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
