-- Everything the dashboard and `lensops stats` show, in one round trip; it only reads.
-- Each read is O(1) or O(log N): the cost does not grow with the number of jobs waiting.
-- KEYS: none (the spec names rq's and lensops' keys; see lensops.ops.snapshot)
-- ARGV[1]: JSON spec: now, queues [{name, physical [{name, priority}], limiter, limit, timings}], minutes,
-- timing_minutes, failures (`timings`: the queue's per-minute timing key prefix, see engine/timings.py)
-- Returns JSON: {queues [...], workers [{key, fields, job}], failures [{text, count, state}]}; each queue's `throughput`
-- is {finished, failed, retried} per minute of `minutes`, counted from the timings (every attempt a
-- worker ran is in a run bucket: finished = runs - failed - retried + lost), and its `timing` adds its
-- job types' run/wait buckets and sums over timing_minutes, keyed by metric (r<k>, rs, w<k>, ws).
local spec = cjson.decode(ARGV[1])
local now = tonumber(spec.now)
local out = {queues = {}, workers = {}, failures = {}}
for _, q in ipairs(spec.queues) do
  local item = {name = q.name, counts = {}, queued_by_priority = {}, oldest = false, throughput = {}}
  local counts = {queued = 0, started = 0, scheduled = 0, deferred = 0, finished = 0, failed = 0, canceled = 0}
  for _, p in ipairs(q.physical) do
    local n = redis.call('LLEN', 'rq:queue:' .. p.name)
    item.queued_by_priority[p.priority] = n
    counts.queued = counts.queued + n
    counts.started = counts.started + redis.call('ZCARD', 'rq:wip:' .. p.name)
    counts.scheduled = counts.scheduled + redis.call('ZCARD', 'rq:scheduled:' .. p.name)
    counts.deferred = counts.deferred + redis.call('ZCARD', 'rq:deferred:' .. p.name)
    -- finished/failed/canceled registries are scored by expiry: count the live entries only
    counts.finished = counts.finished + redis.call('ZCOUNT', 'rq:finished:' .. p.name, now, '+inf')
    counts.failed = counts.failed + redis.call('ZCOUNT', 'rq:failed:' .. p.name, now, '+inf')
    counts.canceled = counts.canceled + redis.call('ZCOUNT', 'rq:canceled:' .. p.name, now, '+inf')
    local head = redis.call('LINDEX', 'rq:queue:' .. p.name, 0)
    if head then
      local at = redis.call('HGET', 'rq:job:' .. head, 'enqueued_at')
      if at and (not item.oldest or at < item.oldest) then item.oldest = at end
    end
  end
  item.counts = counts
  item.paused = redis.call('GET', 'lensops:paused:' .. q.name) or false
  if q.limiter ~= '' then
    item.limiter = redis.call('LRANGE', q.limiter, 0, q.limit - 1)
  end
  local timing, merged = {}, {}
  for _, minute in ipairs(spec.minutes) do merged[minute] = true end
  for _, minute in ipairs(spec.timing_minutes) do timing[minute] = true; merged[minute] = true end
  local per_minute, metrics = {}, {}
  for minute in pairs(merged) do
    local flat = redis.call('HGETALL', q.timings .. minute)
    local runs, failed, retried, lost = 0, 0, 0, 0
    for i = 1, #flat, 2 do
      local metric, value = string.match(flat[i], '|([^|]*)$'), tonumber(flat[i + 1]) or 0
      if metric then
        if string.match(metric, '^r%-?%d+$') then runs = runs + value
        elseif metric == 'failed' then failed = failed + value
        elseif metric == 'retried' then retried = retried + value
        elseif metric == 'lost' then lost = lost + value end
        if timing[minute] and string.match(metric, '^[rw]') then metrics[metric] = (metrics[metric] or 0) + value end
      end
    end
    per_minute[minute] = {runs - failed - retried + lost, failed, retried}
  end
  for _, minute in ipairs(spec.minutes) do table.insert(item.throughput, per_minute[minute]) end
  item.timing = metrics
  table.insert(out.queues, item)
end
for _, wkey in ipairs(redis.call('SMEMBERS', 'rq:workers')) do
  local fields = redis.call('HGETALL', wkey)
  local worker = {key = wkey, fields = fields}
  for i = 1, #fields, 2 do
    if fields[i] == 'current_job' and fields[i + 1] ~= '' then
      worker.job = redis.call('HMGET', 'rq:job:' .. fields[i + 1], 'started_at', 'description', 'origin')
    end
  end
  table.insert(out.workers, worker)
end
-- Recent failures, one row per job: its newest failure, how many of the recent ones are its, and its
-- state now. A job that no longer exists (purged, deleted, expired) has no row. The list is capped
-- (outcomes.FAILURES_KEPT), so this costs the same however many jobs there are.
local rows, seen = {}, {}
for _, text in ipairs(redis.call('LRANGE', 'lensops:failures', 0, -1)) do
  local ok, item = pcall(cjson.decode, text)
  local id = ok and type(item) == 'table' and item.id
  if type(id) == 'string' then
    local row = seen[id]
    if row then
      row.count = row.count + 1
    else
      row = {text = text, count = 1}
      seen[id] = row
      if #rows < spec.failures then
        row.state = redis.call('HGET', 'rq:job:' .. id, 'status')
        if row.state then table.insert(rows, row) end
      end
    end
  end
end
out.failures = rows
return cjson.encode(out)
