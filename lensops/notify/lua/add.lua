-- Store one notification in a user's inbox, trim the inbox to its cap and TTL, and publish it.
-- KEYS[1]: items hash; KEYS[2]: timeline zset; KEYS[3]: unread zset (lensops:notify:{<user>}:*)
-- ARGV[1]: notification id; ARGV[2]: the notification as JSON; ARGV[3]: its score (event time, ms);
-- ARGV[4]: cap; ARGV[5]: ttl (ms); ARGV[6]: pub/sub channel; ARGV[7]: now (ms)
-- Returns {0, 0} if the id was already stored, else {1, subscribers reached}.
local items, timeline, unread = KEYS[1], KEYS[2], KEYS[3]
local id, body, channel = ARGV[1], ARGV[2], ARGV[6]
local score, cap, ttl_ms, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
if redis.call('HEXISTS', items, id) == 1 then
  return {0, 0}
end
redis.call('HSET', items, id, body)
redis.call('ZADD', timeline, score, id)
redis.call('ZADD', unread, score, id)
local function drop(ids)
  for _, old in ipairs(ids) do
    redis.call('HDEL', items, old)
    redis.call('ZREM', timeline, old)
    redis.call('ZREM', unread, old)
  end
end
drop(redis.call('ZRANGEBYSCORE', timeline, '-inf', '(' .. tostring(now - ttl_ms)))
local excess = redis.call('ZCARD', timeline) - cap
if excess > 0 then
  -- One pass over the inbox (at most cap + 1 items), oldest first, into eviction classes:
  -- 1-4 read low..urgent, 5-7 unread low..high; unread urgent is never a candidate.
  local rank = {low = 1, medium = 2, high = 3, urgent = 4}
  local classes = {{}, {}, {}, {}, {}, {}, {}}
  for _, candidate in ipairs(redis.call('ZRANGE', timeline, 0, -1)) do
    local ok, item = pcall(cjson.decode, redis.call('HGET', items, candidate) or '{}')
    local level = (ok and rank[item.priority]) or rank.medium
    local is_unread = redis.call('ZSCORE', unread, candidate)
    if not is_unread then
      table.insert(classes[level], candidate)
    elseif level < rank.urgent then
      table.insert(classes[4 + level], candidate)
    end
  end
  local chosen = {}
  for _, class in ipairs(classes) do
    for _, candidate in ipairs(class) do
      if #chosen >= excess then break end
      table.insert(chosen, candidate)
    end
  end
  drop(chosen)
end
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ttl_ms)
end
return {1, redis.call('PUBLISH', channel, body)}
