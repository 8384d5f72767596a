//! The server-side Lua scripts. Each runs atomically on the Redis server.
//!
//! KEYS: 1 jobs, 2 meta, 3 leases, 4 due, 5 due_member (see `keys.rs`).
//! Encodings (see `encoding.rs`): meta = priority10 ++ next18 (next empty
//! when paused); lease = expires18 ++ acquired-next18 ++ owner; due member =
//! available18 ":" priority10 ":" id, where available = max(next, lease
//! expiry) compared as fixed-width strings.

use std::sync::OnceLock;

use redis::Script;

const PRELUDE: &str = r#"
local jobs, meta, leases, due, due_member = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local function reindex(id)
  local old = redis.call('HGET', due_member, id)
  if old then
    redis.call('ZREM', due, old)
    redis.call('HDEL', due_member, id)
  end
  local m = redis.call('HGET', meta, id)
  if not m then return end
  local nxt = string.sub(m, 11)
  if nxt == '' then return end
  local avail = nxt
  local lease = redis.call('HGET', leases, id)
  if lease then
    local expires = string.sub(lease, 1, 18)
    if expires > avail then avail = expires end
  end
  local member = avail .. ':' .. string.sub(m, 1, 10) .. ':' .. id
  redis.call('ZADD', due, 0, member)
  redis.call('HSET', due_member, id, member)
end
local function forget(id, runs_prefix)
  redis.call('HDEL', jobs, id)
  redis.call('HDEL', meta, id)
  redis.call('HDEL', leases, id)
  reindex(id)
  redis.call('DEL', runs_prefix .. id)
end
"#;

/// ARGV: replace ("1"/"0"), channel, then (id, record, meta) triples.
/// Returns {"ok"} or {"conflict", id}.
const ADD: &str = r#"
local replace = ARGV[1] == '1'
local n = (#ARGV - 2) / 3
if not replace then
  for i = 0, n - 1 do
    local id = ARGV[3 + i * 3]
    if redis.call('HEXISTS', jobs, id) == 1 then return {'conflict', id} end
  end
end
for i = 0, n - 1 do
  local id = ARGV[3 + i * 3]
  redis.call('HSET', jobs, id, ARGV[4 + i * 3])
  redis.call('HSET', meta, id, ARGV[5 + i * 3])
  redis.call('HDEL', leases, id)
  reindex(id)
end
redis.call('PUBLISH', ARGV[2], 'add')
return {'ok'}
"#;

/// ARGV: id, record, meta, channel. Returns "ok" or "not_found".
const UPDATE: &str = r#"
local id = ARGV[1]
if redis.call('HEXISTS', jobs, id) == 0 then return 'not_found' end
redis.call('HSET', jobs, id, ARGV[2])
redis.call('HSET', meta, id, ARGV[3])
reindex(id)
redis.call('PUBLISH', ARGV[4], 'update')
return 'ok'
"#;

/// ARGV: id, expected record, new record, new meta, channel. Returns "ok",
/// "not_found" or "changed" (compare-and-set failed: read again, retry).
const MODIFY: &str = r#"
local id = ARGV[1]
local current = redis.call('HGET', jobs, id)
if not current then return 'not_found' end
if current ~= ARGV[2] then return 'changed' end
redis.call('HSET', jobs, id, ARGV[3])
redis.call('HSET', meta, id, ARGV[4])
reindex(id)
redis.call('PUBLISH', ARGV[5], 'update')
return 'ok'
"#;

/// ARGV: id, runs prefix, channel. Returns "ok" or "not_found".
const REMOVE: &str = r#"
local id = ARGV[1]
if redis.call('HEXISTS', jobs, id) == 0 then return 'not_found' end
forget(id, ARGV[2])
redis.call('PUBLISH', ARGV[3], 'remove')
return 'ok'
"#;

/// ARGV: runs prefix, channel.
const REMOVE_ALL: &str = r#"
for _, id in ipairs(redis.call('HKEYS', jobs)) do
  redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', jobs, meta, leases, due, due_member)
redis.call('PUBLISH', ARGV[2], 'remove_all')
return 'ok'
"#;

/// ARGV: exclusive upper bound "(" ++ (now + 1 µs)18, limit, owner,
/// expires18. Returns a flat list id, record, id, record…
const ACQUIRE: &str = r#"
local members = redis.call('ZRANGEBYLEX', due, '-', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, member in ipairs(members) do
  local id = string.sub(member, 31)
  local nxt = string.sub(redis.call('HGET', meta, id) or '', 11)
  if #nxt == 18 then
    redis.call('HSET', leases, id, ARGV[4] .. nxt .. ARGV[3])
    reindex(id)
    table.insert(out, id)
    table.insert(out, redis.call('HGET', jobs, id) or '')
  else
    reindex(id)
  end
end
return out
"#;

/// ARGV: id, owner, action ("reschedule"/"remove"), expected record, new
/// record, new meta, runs prefix. Returns {"ok"}, {"kept"} (the schedule
/// was changed while leased), {"not_found"}, {"lease_lost"} or
/// {"changed", current record} (compare-and-set failed: retry).
const RELEASE: &str = r#"
local id, owner = ARGV[1], ARGV[2]
local current = redis.call('HGET', jobs, id)
if not current then return {'not_found'} end
local lease = redis.call('HGET', leases, id)
if (not lease) or string.sub(lease, 37) ~= owner then return {'lease_lost'} end
local m = redis.call('HGET', meta, id) or ''
if string.sub(m, 11) ~= string.sub(lease, 19, 36) then
  redis.call('HDEL', leases, id)
  reindex(id)
  return {'kept'}
end
if ARGV[3] == 'remove' then
  forget(id, ARGV[7])
  return {'ok'}
end
if current ~= ARGV[4] then return {'changed', current} end
redis.call('HSET', jobs, id, ARGV[5])
redis.call('HSET', meta, id, ARGV[6])
redis.call('HDEL', leases, id)
reindex(id)
return {'ok'}
"#;

/// ARGV: id, runs key, run JSON, keep. Records only for existing jobs.
const RECORD_RUN: &str = r#"
if redis.call('HEXISTS', jobs, ARGV[1]) == 0 then return 'gone' end
redis.call('LPUSH', ARGV[2], ARGV[3])
redis.call('LTRIM', ARGV[2], 0, tonumber(ARGV[4]) - 1)
return 'ok'
"#;

/// The compiled scripts.
pub(crate) struct Scripts {
    pub add: Script,
    pub update: Script,
    pub modify: Script,
    pub remove: Script,
    pub remove_all: Script,
    pub acquire: Script,
    pub release: Script,
    pub record_run: Script,
}

/// The scripts, compiled once per process.
pub(crate) fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let with = |body: &str| Script::new(&format!("{PRELUDE}\n{body}"));
        Scripts {
            add: with(ADD),
            update: with(UPDATE),
            modify: with(MODIFY),
            remove: with(REMOVE),
            remove_all: with(REMOVE_ALL),
            acquire: with(ACQUIRE),
            release: with(RELEASE),
            record_run: with(RECORD_RUN),
        }
    })
}
