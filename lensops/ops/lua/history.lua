-- Job timings of some queues over a run of time slots (or all time), read in one round trip; it
-- only reads. Hours the roll-up has not reached yet are read from their minutes, so the answer is
-- the same whenever the roll-up ran; minutes are read at most back to `floor` (bounding the cost).
-- KEYS: none (the spec names lensops' keys; see lensops.ops.history)
-- ARGV[1]: JSON spec: resolution ("m", "h", "d" or "total"), from, to (slot numbers), now (epoch
-- minute), floor (epoch minute), queues [{m, h, d, total, marker}] (key prefixes, keys)
-- Returns per queue {last hour rolled, slot..., } where each slot is a flat list: field, value, ...
local spec = cjson.decode(ARGV[1])
local now, floor = tonumber(spec.now), tonumber(spec.floor)

local function add(into, order, flat)
  for i = 1, #flat, 2 do
    local value = tonumber(flat[i + 1])
    if value then
      if not into[flat[i]] then table.insert(order, flat[i]); into[flat[i]] = 0 end
      into[flat[i]] = into[flat[i]] + value
    end
  end
end

local function add_minutes(q, into, order, first, last)
  if first < floor then first = floor end
  if last > now then last = now end
  for minute = first, last do add(into, order, redis.call('HGETALL', q.m .. minute)) end
end

local function flatten(into, order)
  local out = {}
  for _, name in ipairs(order) do
    table.insert(out, name)
    table.insert(out, string.format('%.0f', into[name]))
  end
  return out
end

local out = {}
for _, q in ipairs(spec.queues) do
  local rolled = tonumber(redis.call('GET', q.marker) or '-1')
  local item = {rolled}
  if spec.resolution == 'total' then
    local into, order = {}, {}
    add(into, order, redis.call('HGETALL', q.total))
    add_minutes(q, into, order, (rolled + 1) * 60, now)
    table.insert(item, flatten(into, order))
  else
    for slot = tonumber(spec.from), tonumber(spec.to) do
      local into, order = {}, {}
      if spec.resolution == 'm' then
        add(into, order, redis.call('HGETALL', q.m .. slot))
      elseif spec.resolution == 'h' then
        if slot <= rolled then
          add(into, order, redis.call('HGETALL', q.h .. slot))
        else
          add_minutes(q, into, order, slot * 60, slot * 60 + 59)
        end
      else
        add(into, order, redis.call('HGETALL', q.d .. slot))  -- holds the day's rolled hours
        for hour = math.max(slot * 24, rolled + 1), slot * 24 + 23 do
          add_minutes(q, into, order, hour * 60, hour * 60 + 59)
        end
      end
      table.insert(item, flatten(into, order))
    end
  end
  table.insert(out, item)
end
return out
