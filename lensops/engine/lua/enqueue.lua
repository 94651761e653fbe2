-- Create the job hash and push its id, unless a job with that id exists (ids are idempotency keys:
-- a spool replay or a retried call after a lost reply never enqueues twice).
-- KEYS: job hash, queue list (or scheduled zset), wake-up list
-- ARGV: mode ("queue"|"schedule"|"front"), score, job id, queue key for rq:queues, field, value...
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
