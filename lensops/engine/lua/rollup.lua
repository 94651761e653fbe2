-- Add each finished hour of one queue's per-minute timing hashes to its hour, day and all-time
-- hashes, at most ARGV[4] hours per call, oldest first. The marker (the last hour rolled) moves in
-- the same script, so no hour is ever added twice, however many workers run this at once.
-- KEYS: none (the key prefixes come from lensops.engine.keys through ARGV)
-- ARGV[1]: minute key prefix; ARGV[2]: hour key prefix; ARGV[3]: day key prefix (each ends with ':');
-- ARGV[4]: hours at most; ARGV[5]: the first hour worth rolling (older minutes have expired);
-- ARGV[6]: the last finished hour; ARGV[7]: all-time hash; ARGV[8]: marker; ARGV[9]: hour/day TTL;
-- ARGV[10]: minute TTL (given again to each minute read: a worker sets it only on a minute's first job)
-- Returns {the last hour rolled, hours rolled by this call}.
local marker = tonumber(redis.call('GET', ARGV[8]) or '-1')
local hour = math.max(marker + 1, tonumber(ARGV[5]))
local last, budget, ttl = tonumber(ARGV[6]), tonumber(ARGV[4]), tonumber(ARGV[9])
local rolled = 0
while hour <= last and rolled < budget do
  local sums, names = {}, {}
  for minute = hour * 60, hour * 60 + 59 do
    local flat = redis.call('HGETALL', ARGV[1] .. minute)
    if #flat > 0 then redis.call('EXPIRE', ARGV[1] .. minute, ARGV[10]) end
    for i = 1, #flat, 2 do
      local value = tonumber(flat[i + 1])
      if value then
        if not sums[flat[i]] then table.insert(names, flat[i]); sums[flat[i]] = 0 end
        sums[flat[i]] = sums[flat[i]] + value
      end
    end
  end
  if #names > 0 then
    local hkey = ARGV[2] .. hour
    local dkey = ARGV[3] .. math.floor(hour / 24)
    for _, name in ipairs(names) do
      local text = string.format('%.0f', sums[name])  -- integers, never 1e+15
      redis.call('HINCRBY', hkey, name, text)
      redis.call('HINCRBY', dkey, name, text)
      redis.call('HINCRBY', ARGV[7], name, text)
    end
    redis.call('EXPIRE', hkey, ttl)
    redis.call('EXPIRE', dkey, ttl)
  end
  redis.call('SET', ARGV[8], hour)
  hour = hour + 1
  rolled = rolled + 1
end
return {hour - 1, rolled}
