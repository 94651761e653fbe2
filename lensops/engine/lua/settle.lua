-- Settle one execution and optionally claim the next job, in one round trip.
-- The bookkeeping commands (ARGV[2]) run only if this execution still owns its started-registry
-- entry: if a sweeper already declared the worker dead and handled the job, a late result is
-- dropped instead of applied twice.
-- KEYS[1]: started registry.
-- ARGV[1]: registry member ('' = nothing to settle); ARGV[2]: the commands, a flat JSON list of
-- name, value count, name, value count, ... whose values follow in ARGV from ARGV[11], in order;
-- ARGV[3]: worker hash ('' for the sweeper): it remembers the last member it settled, so a call
-- retried after a lost reply knows the first one applied; ARGV[4]: '' or the sweeper's lapsed_before
-- (leave an entry whose worker heartbeated since the sweeper looked); ARGV[5]: the queue to claim
-- from ('' = no claim); ARGV[6..10]: the claim's worker name, now (ISO), heartbeat deadline,
-- execution id, and '1' if LMPOP is available (see claim.lua).
-- Returns {owned (0 not ours, 1 applied, 2 applied by an earlier try), claimed job or false, has dependents}.
-- Uses claim() from claim.lua, which is prepended when the script is loaded.
local member, worker = ARGV[1], ARGV[3]
local owned = 1
if member ~= '' then
  if ARGV[4] ~= '' then
    local score = redis.call('ZSCORE', KEYS[1], member)
    if score and tonumber(score) <= tonumber(ARGV[4]) then
      redis.call('ZREM', KEYS[1], member)
    else
      owned = 0
    end
  elseif redis.call('ZREM', KEYS[1], member) == 0 then
    if worker ~= '' and redis.call('HGET', worker, 'last_settled') == member then owned = 2 else owned = 0 end
  end
end
if owned == 1 and ARGV[2] ~= '' then
  local ops, at = cjson.decode(ARGV[2]), 11
  for i = 1, #ops, 2 do
    local count = ops[i + 1]
    redis.call(ops[i], unpack(ARGV, at, at + count - 1))
    at = at + count
  end
end
local settled = nil
if owned == 1 and member ~= '' and worker ~= '' then settled = member end
local deps = 0
if owned ~= 0 and member ~= '' then
  deps = redis.call('EXISTS', 'rq:job:' .. string.match(member, '^(.*):[^:]*$') .. ':dependents')
end
local claimed = false
if ARGV[5] ~= '' then
  claimed = claim(ARGV[5], worker, ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9], ARGV[10] == '1', settled)
elseif settled then
  redis.call('HSET', worker, 'last_settled', settled)
end
return {owned, claimed, deps}
