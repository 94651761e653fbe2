-- KEYS: none (rq's fixed layout, derived from the id)
-- Returns 'deleted', 'unknown job id' or 'not ended (<status>)'.
-- Delete one ended job if it is still in the registry of its state. ARGV: job id.
local id = ARGV[1]
local jkey = 'rq:job:' .. id
local status = redis.call('HGET', jkey, 'status')
if not status then return 'unknown job id' end
local registry = ({failed = 'failed', stopped = 'failed', finished = 'finished', canceled = 'canceled'})[status]
if not registry then return 'not ended (' .. status .. ')' end
local origin = redis.call('HGET', jkey, 'origin')
redis.call('ZREM', 'rq:' .. registry .. ':' .. origin, id)
redis.call('DEL', jkey, 'rq:results:' .. id, 'lensops:attempts:' .. id, 'rq:executions:' .. id,
           jkey .. ':dependents', jkey .. ':dependencies')
return 'deleted'
