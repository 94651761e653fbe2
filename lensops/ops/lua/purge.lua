-- Delete jobs that are still in the given registry (zset) or, for "queued", pop them from the head
-- of the list while they are older than the cutoff.
-- KEYS[1]: the zset or list. ARGV[1]: mode ('list' or 'zset');
-- 'list': ARGV[2] cutoff (enqueued_at, ISO), ARGV[3] most to remove; 'zset': ARGV[2..] the job ids.
-- Returns the ids removed.
local removed = {}
local function drop(id)
  local jkey = 'rq:job:' .. id
  redis.call('DEL', jkey, 'rq:results:' .. id, 'lensops:attempts:' .. id, 'rq:executions:' .. id,
             jkey .. ':dependents', jkey .. ':dependencies')
  table.insert(removed, id)
end
if ARGV[1] == 'list' then
  local cutoff, most = ARGV[2], tonumber(ARGV[3])
  for _ = 1, most do
    local head = redis.call('LINDEX', KEYS[1], 0)
    if not head then break end
    if cutoff ~= '' then
      local at = redis.call('HGET', 'rq:job:' .. head, 'enqueued_at')
      if at and at >= cutoff then break end
    end
    redis.call('LPOP', KEYS[1])
    drop(head)
  end
else
  for i = 2, #ARGV do
    if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then drop(ARGV[i]) end
  end
end
return removed
