//! The server-side Lua scripts. Each runs atomically on the Redis server.
//!
//! KEYS: 1 jobs, 2 meta, 3 leases, 4 due, 5 handoffs, 6 handoff_deadlines,
//! 7 handoff_holders (see `keys.rs`).
//! Encodings (see `encoding.rs`): meta = priority10 ++ next18 (next empty
//! when paused); lease = expires18 ++ acquired-next18 ++ owner; due member =
//! available18 ":" priority10 ":" id, where available = max(next, lease
//! expiry) compared as fixed-width strings.
//!
//! A job's due member is a function of its meta and lease (`due_member`),
//! so it is never stored elsewhere: every script that changes a job's meta
//! or lease removes the member computed from the old values and adds the
//! one computed from the new ones. Acquisition relies on this: every member
//! in `due` is its job's current one, or its job is gone or paused.
//!
//! The dispatch journal (see `journal.rs`): `handoffs` maps an entry key
//! (`job_id \x1f fire micros`) to the entry's JSON; `handoff_holders` maps
//! it to deadline18 ++ owner (who holds it now, until when);
//! `handoff_deadlines` scores entry keys by deadline (the same deadline18
//! text, read by Redis as a double: exact to the microsecond until 2255)
//! so stale ones come out oldest first;
//! the set `<handoffs_of prefix><owner>` lists the entry keys an owner holds.

use std::sync::OnceLock;

use redis::Script;

const PRELUDE: &str = r#"
local jobs, meta, leases, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local handoffs, handoff_deadlines, handoff_holders = KEYS[5], KEYS[6], KEYS[7]
-- The due member of job id for its meta `m` and lease (false or nil: not
-- leased); nil when it has no next run time (paused).
local function due_member(id, m, lease)
  local nxt = string.sub(m, 11)
  if nxt == '' then return nil end
  local avail = nxt
  if lease then
    local expires = string.sub(lease, 1, 18)
    if expires > avail then avail = expires end
  end
  return avail .. ':' .. string.sub(m, 1, 10) .. ':' .. id
end
-- The due member of job id as its meta and lease are stored now.
local function stored_member(id)
  local m = redis.call('HGET', meta, id)
  if not m then return nil end
  return due_member(id, m, redis.call('HGET', leases, id))
end
-- Adds (or removes) `member` (nil: nothing) to (from) the due set.
local function add_member(member)
  if member then redis.call('ZADD', due, 0, member) end
end
local function remove_member(member)
  if member then redis.call('ZREM', due, member) end
end
local function forget(id, runs_prefix)
  remove_member(stored_member(id))
  redis.call('HDEL', jobs, id)
  redis.call('HDEL', meta, id)
  redis.call('HDEL', leases, id)
  redis.call('DEL', runs_prefix .. id)
end
-- Ends owner's lease on job id. action: "reschedule" (compare-and-set of
-- the record: expected -> new_record, new_meta), "remove", or "unreadable"
-- (the record cannot be rescheduled: report it, change nothing). Returns a
-- status ("ok", "kept", "not_found", "lease_lost", "unreadable", or
-- "changed": the record is no longer `expected`) and the current record
-- for "changed" ('' otherwise).
local function release_one(id, owner, action, expected, new_record, new_meta, runs_prefix)
  local current = redis.call('HGET', jobs, id)
  if not current then return 'not_found', '' end
  local lease = redis.call('HGET', leases, id)
  if (not lease) or string.sub(lease, 37) ~= owner then return 'lease_lost', '' end
  local m = redis.call('HGET', meta, id) or ''
  if string.sub(m, 11) ~= string.sub(lease, 19, 36) then
    remove_member(due_member(id, m, lease))
    redis.call('HDEL', leases, id)
    add_member(due_member(id, m, nil))
    return 'kept', ''
  end
  if action == 'remove' then
    forget(id, runs_prefix)
    return 'ok', ''
  end
  if action == 'unreadable' then return 'unreadable', '' end
  if current ~= expected then return 'changed', current end
  remove_member(due_member(id, m, lease))
  redis.call('HSET', jobs, id, new_record)
  redis.call('HSET', meta, id, new_meta)
  redis.call('HDEL', leases, id)
  add_member(due_member(id, new_meta, nil))
  return 'ok', ''
end
-- Makes owner the holder of journal entry `key` until deadline18.
local function hold_hand_off(key, owner, deadline18, owners_prefix)
  local old = redis.call('HGET', handoff_holders, key)
  if old then redis.call('SREM', owners_prefix .. string.sub(old, 19), key) end
  redis.call('HSET', handoff_holders, key, deadline18 .. owner)
  redis.call('ZADD', handoff_deadlines, deadline18, key)
  redis.call('SADD', owners_prefix .. owner, key)
end
-- Runs a multi-argument command over `args` in slices of 1,000 (Lua's
-- unpack has a limit); slices keep field/value pairs together.
local function in_slices(command, key, args)
  for from = 1, #args, 1000 do
    redis.call(command, key, unpack(args, from, math.min(from + 999, #args)))
  end
end
-- HMGET of any number of fields.
local function hmget(key, fields)
  local values = {}
  for from = 1, #fields, 1000 do
    local part = redis.call('HMGET', key, unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #part do values[from + i - 1] = part[i] end
  end
  return values
end
-- Removes journal entry `key` (nothing if there is none).
local function drop_hand_off(key, owners_prefix)
  local old = redis.call('HGET', handoff_holders, key)
  if old then redis.call('SREM', owners_prefix .. string.sub(old, 19), key) end
  redis.call('HDEL', handoffs, key)
  redis.call('HDEL', handoff_holders, key)
  redis.call('ZREM', handoff_deadlines, key)
end
"#;

/// ARGV: replace ("1"/"0"), channel, then (id, record, meta) triples.
/// Returns {"ok"} or {"conflict", id}.
const ADD: &str = r#"
local replace = ARGV[1] == '1'
local n = (#ARGV - 2) / 3
if replace then
  for i = 0, n - 1 do
    local id, m = ARGV[3 + i * 3], ARGV[5 + i * 3]
    remove_member(stored_member(id))
    redis.call('HSET', jobs, id, ARGV[4 + i * 3])
    redis.call('HSET', meta, id, m)
    redis.call('HDEL', leases, id)
    add_member(due_member(id, m, nil))
  end
else
  local ids = {}
  for i = 0, n - 1 do ids[i + 1] = ARGV[3 + i * 3] end
  local existing = hmget(jobs, ids)
  for i = 1, n do
    if existing[i] then return {'conflict', ids[i]} end
  end
  -- All new (a removal clears a job's lease and due member with it): a
  -- few multi-field writes for the whole batch. The tables are filled by
  -- counters: `#t` is a binary search in Lua 5.1, per append.
  local records, metas, members = {}, {}, {}
  local written, indexed = 0, 0
  for i = 0, n - 1 do
    local at = 3 + i * 3
    local id, m = ARGV[at], ARGV[at + 2]
    records[written + 1] = id
    records[written + 2] = ARGV[at + 1]
    metas[written + 1] = id
    metas[written + 2] = m
    written = written + 2
    local member = due_member(id, m, nil)
    if member then
      members[indexed + 1] = 0
      members[indexed + 2] = member
      indexed = indexed + 2
    end
  end
  in_slices('HSET', jobs, records)
  in_slices('HSET', meta, metas)
  in_slices('ZADD', due, members)
end
redis.call('PUBLISH', ARGV[2], 'add')
return {'ok'}
"#;

/// ARGV: id, record, meta, channel. Returns "ok" or "not_found".
const UPDATE: &str = r#"
local id = ARGV[1]
if redis.call('HEXISTS', jobs, id) == 0 then return 'not_found' end
remove_member(stored_member(id))
redis.call('HSET', jobs, id, ARGV[2])
redis.call('HSET', meta, id, ARGV[3])
add_member(stored_member(id))
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
remove_member(stored_member(id))
redis.call('HSET', jobs, id, ARGV[3])
redis.call('HSET', meta, id, ARGV[4])
add_member(stored_member(id))
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

/// ARGV: runs prefix, channel. Leaves the dispatch journal alone.
const REMOVE_ALL: &str = r#"
for _, id in ipairs(redis.call('HKEYS', jobs)) do
  redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', jobs, meta, leases, due)
redis.call('PUBLISH', ARGV[2], 'remove_all')
return 'ok'
"#;

/// ARGV: exclusive upper bound "(" ++ (now + 1 µs)18, limit, owner,
/// expires18. Returns a flat list id, record, id, record…
///
/// A fixed number of commands per batch, not per job: the due jobs' meta
/// and records are read with one HMGET each, their members moved with one
/// ZREMRANGEBYLEX and one ZADD and their leases written with one HSET (in slices, to
/// stay within Lua's argument limits). A member whose job is gone or paused
/// is removed on the way.
const ACQUIRE: &str = r#"
local members = redis.call('ZRANGEBYLEX', due, '-', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #members == 0 then return {} end
local ids = {}
for i, member in ipairs(members) do ids[i] = string.sub(member, 31) end
local metas = hmget(meta, ids)
local owner, expires = ARGV[3], ARGV[4]
-- Filled by a counter (see ADD): `n` jobs taken.
local taken, lease_args, new_members = {}, {}, {}
local n = 0
for i, id in ipairs(ids) do
  local m = metas[i]
  if m and #m == 28 then
    local lease = expires .. string.sub(m, 11) .. owner
    n = n + 1
    taken[n] = id
    lease_args[2 * n - 1] = id
    lease_args[2 * n] = lease
    new_members[2 * n - 1] = 0
    new_members[2 * n] = due_member(id, m, lease)
  end
end
-- The members read are the index's first ones: cut them as one range.
redis.call('ZREMRANGEBYLEX', due, '-', '[' .. members[#members])
if n == 0 then return {} end
in_slices('ZADD', due, new_members)
in_slices('HSET', leases, lease_args)
local records = hmget(jobs, taken)
local out = {}
for i, id in ipairs(taken) do
  out[2 * i - 1] = id
  out[2 * i] = records[i] or ''
end
return out
"#;

/// ARGV: owner, runs prefix, handoffs_of prefix, then per entry
/// `RELEASE_WIDTH` values: id, action ("reschedule"/"remove"/"unreadable"),
/// expected record, new record, new meta, hand-off key ('' = none),
/// hand-off JSON, hand-off owner, hand-off deadline18. Releases each entry
/// in order (see `release_one`) and records its hand-off in the journal when
/// the release ended the lease ("ok" or "kept"). Returns a flat list,
/// two items per entry: status and the current record for "changed" ('').
const RELEASE: &str = r#"
local owner, runs_prefix, owners_prefix = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV, 9 do
  local status, current = release_one(ARGV[i], owner, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], runs_prefix)
  local key = ARGV[i + 5]
  if (status == 'ok' or status == 'kept') and key ~= '' then
    redis.call('HSET', handoffs, key, ARGV[i + 6])
    hold_hand_off(key, ARGV[i + 7], ARGV[i + 8], owners_prefix)
  end
  table.insert(out, status)
  table.insert(out, current)
end
return out
"#;

/// Values per entry of the `RELEASE` script.
pub(crate) const RELEASE_WIDTH: usize = 9;

/// ARGV: handoffs_of prefix, then entry keys. Removes those entries.
const FINISH_HAND_OFFS: &str = r#"
for i = 2, #ARGV do
  drop_hand_off(ARGV[i], ARGV[1])
end
return 'ok'
"#;

/// ARGV: handoffs_of prefix, owner, deadline18, then entry keys. Moves the
/// deadline of the listed entries that `owner` still holds.
const RENEW_HAND_OFFS: &str = r#"
local mine = ARGV[1] .. ARGV[2]
for i = 4, #ARGV do
  local key = ARGV[i]
  local holder = redis.call('HGET', handoff_holders, key)
  if holder and string.sub(holder, 19) == ARGV[2] then
    redis.call('HSET', handoff_holders, key, ARGV[3] .. ARGV[2])
    redis.call('ZADD', handoff_deadlines, ARGV[3], key)
  else
    redis.call('SREM', mine, key)
  end
end
return 'ok'
"#;

/// ARGV: handoffs_of prefix, owner, exclusive bound "(" ++ now18, limit,
/// new deadline18. Claims up to `limit` entries whose deadline is before
/// now, oldest first, for `owner` until the new deadline. Returns a flat
/// list, three items per entry: key, JSON ('' if missing) and the holder
/// before the claim (deadline18 ++ owner).
const CLAIM_STALE_HAND_OFFS: &str = r#"
local keys = redis.call('ZRANGEBYSCORE', handoff_deadlines, '-inf', ARGV[3], 'LIMIT', 0, ARGV[4])
local out = {}
for _, key in ipairs(keys) do
  table.insert(out, key)
  table.insert(out, redis.call('HGET', handoffs, key) or '')
  table.insert(out, redis.call('HGET', handoff_holders, key) or '')
  hold_hand_off(key, ARGV[2], ARGV[5], ARGV[1])
end
return out
"#;

/// ARGV: keep, then per run: id, runs key, run JSON. Records the runs of
/// existing jobs, in order; each job keeps its newest `keep`.
const RECORD_RUNS: &str = r#"
local last = tonumber(ARGV[1]) - 1
for i = 2, #ARGV, 3 do
  if redis.call('HEXISTS', jobs, ARGV[i]) == 1 then
    redis.call('LPUSH', ARGV[i + 1], ARGV[i + 2])
    redis.call('LTRIM', ARGV[i + 1], 0, last)
  end
end
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
    pub record_runs: Script,
    pub finish_hand_offs: Script,
    pub renew_hand_offs: Script,
    pub claim_stale_hand_offs: Script,
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
            record_runs: with(RECORD_RUNS),
            finish_hand_offs: with(FINISH_HAND_OFFS),
            renew_hand_offs: with(RENEW_HAND_OFFS),
            claim_stale_hand_offs: with(CLAIM_STALE_HAND_OFFS),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_script_steps_by_its_width() {
        assert!(RELEASE.contains(&format!("for i = 4, #ARGV, {RELEASE_WIDTH} do")));
    }
}
