-- Requeue a failed job with a fresh attempt budget (`lensops retry`), at the back of its queue.
-- KEYS: none (the job's keys are derived from its id: they are rq's fixed layout)
-- ARGV[1]: job id; ARGV[2]: fresh retries_left; ARGV[3]: enqueued_at (rq's ISO format);
-- ARGV[4]: '1' to forget a side effect in doubt (lensops:sending:<id>: an email may have gone out)
-- Returns 'ok' or why the job was not retried ('unknown job id', 'not failed (<status>)').
local id = ARGV[1]
local jkey = 'rq:job:' .. id
local status = redis.call('HGET', jkey, 'status')
if not status then return 'unknown job id' end
if status ~= 'failed' and status ~= 'stopped' then return 'not failed (' .. status .. ')' end
local origin = redis.call('HGET', jkey, 'origin')
redis.call('ZREM', 'rq:failed:' .. origin, id)
-- rq's number_of_retries restarts (it indexes the backoff); the attempts made so far are kept, so
-- attempt numbers go on (outcomes.attempt_number).
local made = (tonumber(redis.call('HGET', jkey, 'lensops_attempts_before')) or 0)
           + (tonumber(redis.call('HGET', jkey, 'number_of_retries')) or 0) + 1
redis.call('HSET', jkey, 'status', 'queued', 'retries_left', ARGV[2], 'number_of_retries', 0,
           'lensops_attempts_before', made, 'enqueued_at', ARGV[3], 'started_at', '', 'ended_at', '')
redis.call('HDEL', jkey, 'exc_info')
redis.call('DEL', 'lensops:stop:' .. id)
if ARGV[4] == '1' then redis.call('DEL', 'lensops:sending:' .. id) end
redis.call('PERSIST', jkey)
redis.call('RPUSH', 'rq:queue:' .. origin, id)
redis.call('SADD', 'rq:queues', 'rq:queue:' .. origin)
local logical = string.match(origin, '^[^:]+')
redis.call('LPUSH', 'lensops:wakeup:' .. logical, 1)
return 'ok'
