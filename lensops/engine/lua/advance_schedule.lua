-- Advance a schedule's "last run" mark, never move it back (two schedulers race harmlessly).
-- KEYS[1]: lensops:schedule:<name>:last; ARGV[1]: the run's epoch seconds
-- Returns 1 if the mark moved, 0 if it already stood at or past this run.
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
