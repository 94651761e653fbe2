-- Create the job hash and push its id, unless a job with that id exists (ids are idempotency keys:
-- a spool replay or a retried call after a lost reply never enqueues twice).
-- KEYS[1]: job hash; KEYS[2]: queue list (or scheduled zset); KEYS[3]: wake-up list
-- ARGV[1]: mode ("queue" | "schedule" | "front"); ARGV[2]: score (due time, when scheduled);
-- ARGV[3]: job id; ARGV[4]: queue key (for rq:queues); ARGV[5]: the fields every job of its type,
-- queue and priority shares (JSON list); ARGV[6]: data; ARGV[7]: now (rq's ISO format)
-- Returns 1 if created, 0 if the id existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local status = 'queued'
if ARGV[1] == 'schedule' then status = 'scheduled' end
redis.call('HSET', KEYS[1], 'data', ARGV[6], 'created_at', ARGV[7], 'enqueued_at', ARGV[7], 'status', status,
           unpack(cjson.decode(ARGV[5])))
redis.call('SADD', 'rq:queues', ARGV[4])
if ARGV[1] == 'schedule' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
else
  if ARGV[1] == 'front' then redis.call('LPUSH', KEYS[2], ARGV[3]) else redis.call('RPUSH', KEYS[2], ARGV[3]) end
  redis.call('LPUSH', KEYS[3], 1)
  redis.call('LTRIM', KEYS[3], 0, 63)
end
return 1
