//! Lua scripts that let one Redis round trip answer a whole pane refresh, however big the data.

/// Queue lengths, oldest waiting job and how long it has waited (since it was queued) by the
/// server clock, jobs per queue created in
/// the last minute (from at most ARGV[2] of the newest ids), and ZCARD of every status set.
/// ARGV: prefix, recent cap, max id length, queue names…
pub const QUEUES: &str = r#"
local p = ARGV[1]
local cap = tonumber(ARGV[2])
local maxlen = tonumber(ARGV[3])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local statuses = {'queued','running','awaiting_approval','approved','rejected','done','failed','cancelled'}
local counts = {}
for i, s in ipairs(statuses) do
  local ok, n = pcall(redis.call, 'ZCARD', p .. 'jobs:' .. s)
  if ok then counts[i] = n else counts[i] = -1 end
end
local okt, total = pcall(redis.call, 'ZCARD', p .. 'jobs')
if not okt then total = -1 end
local recent_by_queue = {}
if okt then
  local recent = redis.call('ZRANGEBYSCORE', p .. 'jobs', now_ms - 60000, '+inf', 'LIMIT', 0, cap)
  for _, id in ipairs(recent) do
    local ok, q = pcall(redis.call, 'HGET', p .. 'job:' .. id, 'queue')
    if ok then
      local k = q or ''
      recent_by_queue[k] = (recent_by_queue[k] or 0) + 1
    end
  end
end
local queues = {}
for i = 4, #ARGV do
  local name = ARGV[i]
  local key = p .. 'queue:' .. name
  local okl, len = pcall(redis.call, 'LLEN', key)
  if not okl then len = -1 end
  local okp, plen = pcall(redis.call, 'LLEN', p .. 'processing:' .. name)
  if not okp then plen = -1 end
  local oldest_id = false
  local oldest_ms = false
  if okl and len > 0 then
    local entry = redis.call('LINDEX', key, -1)
    if entry then
      local okj, obj = pcall(cjson.decode, entry)
      if okj and type(obj) == 'table' and (type(obj.job_id) == 'string' or type(obj.job_id) == 'number') then
        oldest_id = tostring(obj.job_id)
      else
        oldest_id = entry
      end
      oldest_id = string.sub(oldest_id, 1, maxlen)
      -- Waiting since it was queued (its score in the queued set, updated on a retry), else
      -- since it was created.
      local okq, score = pcall(redis.call, 'ZSCORE', p .. 'jobs:queued', oldest_id)
      if not (okq and score) then
        local okz, created = pcall(redis.call, 'ZSCORE', p .. 'jobs', oldest_id)
        if okz then score = created else score = false end
      end
      if score then oldest_ms = score end
    end
  end
  local recent = recent_by_queue[name] or 0
  if i == 4 then recent = recent + (recent_by_queue[''] or 0) end
  queues[#queues + 1] = {name, len, plen, oldest_id, oldest_ms, recent}
end
return {now_ms, total, counts, queues}
"#;

/// A window of job rows, newest first, from KEYS[1] (`{p}jobs` or `{p}jobs:failed`), each field
/// cut to ARGV[6] bytes on the server so a 10 MB description never crosses the wire. With a
/// needle (ARGV[4], lower-case) it scans at most ARGV[5] entries, newest first, and returns the
/// matches after skipping ARGV[2] of them; a job whose id is exactly ARGV[7] comes first, found
/// in O(1) however old it is. Without a needle, ARGV[8] = 'asc' gives the oldest first. ARGV:
/// prefix, offset, limit, needle, max scan, max field length, exact id, order, fields…
pub const WINDOW: &str = r#"
local index = KEYS[1]
local p = ARGV[1]
local offset = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local needle = ARGV[4]
local max_scan = tonumber(ARGV[5])
local maxlen = tonumber(ARGV[6])
local exact = ARGV[7]
local asc = ARGV[8] == 'asc'
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
local function row(id, score)
  local ok, vals = pcall(redis.call, 'HMGET', p .. 'job:' .. id, unpack(fields))
  local v = {}
  for i = 1, #fields do
    if ok and vals[i] then v[i] = string.sub(vals[i], 1, maxlen) else v[i] = false end
  end
  return {string.sub(id, 1, maxlen), score, v}
end
local okt, total = pcall(redis.call, 'ZCARD', index)
if not okt then return redis.error_reply('index ' .. index .. ' is not a sorted set') end
local rows = {}
local scanned = -1
if needle == '' then
  if limit > 0 then
    local range = 'ZREVRANGE'
    if asc then range = 'ZRANGE' end
    local ids = redis.call(range, index, offset, offset + limit - 1, 'WITHSCORES')
    for i = 1, #ids, 2 do rows[#rows + 1] = row(ids[i], ids[i + 1]) end
  end
else
  local skip = offset
  local pos = 0
  local exact_score = false
  if exact ~= '' then exact_score = redis.call('ZSCORE', index, exact) end
  if exact_score then
    if skip > 0 then skip = skip - 1 else rows[#rows + 1] = row(exact, exact_score) end
  end
  local stop = math.min(max_scan, total)
  while pos < stop and #rows < limit do
    local ids = redis.call('ZREVRANGE', index, pos, math.min(pos + 499, stop - 1), 'WITHSCORES')
    if #ids == 0 then break end
    for i = 1, #ids, 2 do
      pos = pos + 1
      local id = ids[i]
      local hay = string.lower(string.sub(id, 1, 4096))
      local ok, vals = pcall(redis.call, 'HMGET', p .. 'job:' .. id, 'hostname', 'alert_type', 'description')
      if ok then
        for j = 1, 3 do
          if vals[j] then hay = hay .. '\n' .. string.lower(string.sub(vals[j], 1, 4096)) end
        end
      end
      if id ~= exact and string.find(hay, needle, 1, true) then
        if skip > 0 then skip = skip - 1 else rows[#rows + 1] = row(id, ids[i + 1]) end
        if #rows >= limit then break end
      end
    end
  end
  scanned = pos
end
return {total, scanned, rows}
"#;

/// Every field of one job hash, each cut to ARGV[1] bytes, at most ARGV[2] fields, and at most
/// ARGV[3] bytes of values in all. Lengths are read first (HSTRLEN), so a value is only loaded
/// while the budget lasts: a huge hash costs its field names, not its gigabytes.
pub const DETAIL: &str = r#"
local ok, names = pcall(redis.call, 'HKEYS', KEYS[1])
if not ok then return redis.error_reply('job key is not a hash') end
local maxlen = tonumber(ARGV[1])
local maxfields = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local out = {}
for i = 1, math.min(#names, maxfields) do
  local name = names[i]
  local n = redis.call('HSTRLEN', KEYS[1], name)
  local v = ''
  if budget > 0 then
    v = string.sub(redis.call('HGET', KEYS[1], name), 1, math.min(maxlen, budget))
    budget = budget - #v
  elseif n > 0 then
    v = '(' .. n .. ' bytes not loaded)'
  end
  out[#out + 1] = string.sub(name, 1, 256)
  out[#out + 1] = v
end
return out
"#;

/// Create a job (CONTRACT.md §1) in one atomic step, unless an identical request is inside the
/// dedup window: then answer the job it made. The hash, both index sets, the queue entry, the
/// dedup key and the event all happen together or not at all: Redis does not undo a script's
/// writes when a later command fails, so every key is checked before the first write.
/// ARGV: prefix, dedup hash, window s, id, now ms, now RFC 3339, queue, field/value pairs…
/// Returns {job id, 1 if deduplicated else 0}.
pub const CREATE: &str = r#"
local p = ARGV[1]
local dedup = p .. 'dedup:' .. ARGV[2]
local id = ARGV[4]
local key = p .. 'job:' .. id
local want = {[dedup] = 'string', [key] = 'none', [p .. 'jobs'] = 'zset', [p .. 'jobs:queued'] = 'zset',
  [p .. 'queue:' .. ARGV[7]] = 'list'}
for k, t in pairs(want) do
  local have = redis.call('TYPE', k)['ok']
  if have ~= 'none' and have ~= t then return redis.error_reply(k .. ' is a ' .. have .. ', not a ' .. t) end
end
local existing = redis.call('GET', dedup)
if existing then return {existing, 1} end
if redis.call('EXISTS', key) == 1 then return redis.error_reply('job ' .. id .. ' exists') end
for i = 8, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', p .. 'jobs', ARGV[5], id)
redis.call('ZADD', p .. 'jobs:queued', ARGV[5], id)
redis.call('LPUSH', p .. 'queue:' .. ARGV[7], cjson.encode({job_id = id}))
redis.call('SET', dedup, id, 'EX', ARGV[3])
redis.call('PUBLISH', p .. 'events', cjson.encode({job_id = id, status = 'queued', at = ARGV[6]}))
return {id, 0}
"#;

/// Move a job from one status to another if, and only if, it is in the first one now: set the
/// fields, move it between the status sets, push it on or take it off its queue, publish the
/// event. With a guard field, a job that already has a value there is left alone; with a lock
/// token, the job's decision lock must still be held by it (so a decision that outlived its lock
/// cannot land). Cancelling takes the job's entry off its queue first: when there is none, a
/// worker has it, and nothing changes. Every key is checked before the first write.
/// ARGV: prefix, id, from, to, now ms, now RFC 3339, queue op (push|remove|''), guard field,
/// lock token, max queue entries scanned, field/value pairs… Returns {'ok', removed} |
/// {'missing'} | {'status', current} | {'has', guard value} | {'lock'} | {'gone'}.
pub const TRANSITION: &str = r#"
local p, id, from, to = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = p .. 'job:' .. id
local ktype = redis.call('TYPE', key)['ok']
if ktype == 'none' then return {'missing'} end
if ktype ~= 'hash' then return redis.error_reply(key .. ' is a ' .. ktype .. ', not a hash') end
local current = redis.call('HGET', key, 'status') or ''
if current ~= from then return {'status', current} end
local guard = ARGV[8]
if guard ~= '' then
  local g = redis.call('HGET', key, guard)
  if g and g ~= '' then return {'has', g} end
end
if ARGV[9] ~= '' and redis.call('GET', p .. 'lock:job:' .. id) ~= ARGV[9] then return {'lock'} end
local queue = redis.call('HGET', key, 'queue')
if not queue or queue == '' then queue = 'analysis' end
local qkey = p .. 'queue:' .. queue
for _, k in ipairs({p .. 'jobs:' .. from, p .. 'jobs:' .. to, qkey}) do
  local have = redis.call('TYPE', k)['ok']
  local t = 'zset'
  if k == qkey then t = 'list' end
  if have ~= 'none' and have ~= t then return redis.error_reply(k .. ' is a ' .. have .. ', not a ' .. t) end
end
local removed = 0
if ARGV[7] == 'remove' then
  -- The entry mcptop and most producers write, a bare id, then (bounded) any other shape.
  removed = redis.call('LREM', qkey, 0, cjson.encode({job_id = id})) + redis.call('LREM', qkey, 0, id)
  if removed == 0 then
    local max = tonumber(ARGV[10])
    local len = redis.call('LLEN', qkey)
    local pos = 0
    while pos < len and pos < max and removed == 0 do
      for _, e in ipairs(redis.call('LRANGE', qkey, pos, pos + 499)) do
        local okj, obj = pcall(cjson.decode, e)
        if okj and type(obj) == 'table' and tostring(obj.job_id) == id then
          removed = removed + redis.call('LREM', qkey, 0, e)
        end
      end
      pos = pos + 500
    end
  end
  if removed == 0 then return {'gone'} end
end
for i = 11, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', key, 'status', to, 'updated_at', ARGV[6])
redis.call('ZREM', p .. 'jobs:' .. from, id)
redis.call('ZADD', p .. 'jobs:' .. to, ARGV[5], id)
if ARGV[7] == 'push' then
  redis.call('LPUSH', qkey, cjson.encode({job_id = id}))
end
redis.call('PUBLISH', p .. 'events', cjson.encode({job_id = id, status = to, at = ARGV[6]}))
return {'ok', removed}
"#;

/// The fields of a job that a decision reads, whole (HMGET), each at most ARGV[1] bytes: a
/// field past that is an error, never cut. Returns {} when the job does not exist.
pub const DECISION: &str = r#"
local ktype = redis.call('TYPE', KEYS[1])['ok']
if ktype == 'none' then return {} end
if ktype ~= 'hash' then return redis.error_reply('job key is not a hash') end
local max = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV do
  local n = redis.call('HSTRLEN', KEYS[1], ARGV[i])
  if n > max then return redis.error_reply('field ' .. ARGV[i] .. ' is ' .. n .. ' bytes, over ' .. max) end
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = v
  end
end
return out
"#;

/// Take a lock: `SET KEYS[1] ARGV[1] NX PX ARGV[2]`. Returns 1 when taken.
pub const LOCK: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"#;

/// Release a lock only if it is still ours.
pub const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;
