-- Record the latest run of a schedule that was enqueued; an older run never replaces a newer one
-- (two schedulers, one lagging, race harmlessly).
-- KEYS[1]: lensops:schedule:<name>:enqueued
-- ARGV[1]: the run's epoch seconds; ARGV[2]: its job id; ARGV[3]: what the enqueue did; ARGV[4]: when
-- Returns 1 if recorded, 0 if a run at or after this one is recorded already.
local current = tonumber(redis.call('HGET', KEYS[1], 'run_at') or '-1')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'run_at', ARGV[1], 'job_id', ARGV[2], 'status', ARGV[3], 'enqueued_at', ARGV[4])
return 1
