-- Settle one execution and optionally claim the next job, in one round trip.
-- The bookkeeping commands (ARGV[2], JSON: a list of commands whose numeric arguments are indexes
-- into ARGV) run only if this execution still owns its started-registry entry: if a sweeper already
-- declared the worker dead and handled the job, a late result is dropped instead of applied twice.
-- KEYS[1]: started registry; ARGV[1]: registry member ('' = no guard); ARGV[3]: claim spec JSON or ''
-- (see claim.lua); ARGV[4]: guard options JSON or '': `worker` (its hash remembers the last member it
-- settled, so a call retried after a lost reply knows the first one applied) and `lapsed_before`
-- (the sweeper: leave an entry whose worker heartbeated since the sweeper looked); ARGV[5..8]: the
-- claim's now, now (ISO), heartbeat deadline and execution id; the commands' values from ARGV[9].
-- Returns {owned (0 not ours, 1 applied, 2 applied by an earlier try), claimed job or false, has dependents}.
-- Uses claim() from claim.lua, which is prepended when the script is loaded.
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
if ARGV[3] ~= '' then claimed = claim(cjson.decode(ARGV[3]), ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]) end
return {owned, claimed, deps}
