//! The entries themselves: one vector of slots, found by id through a
//! table of slot numbers.
//!
//! With a million jobs, a map from id to boxed entry cost ~35 bytes of
//! table per job (a 16-byte slot, half of them empty after a doubling)
//! plus the box's allocator header; slot numbers are 4 bytes, and the
//! entries sit in the vector unboxed.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::state::Entry;

/// More jobs than slot numbers (2^32) in one store.
#[derive(Debug)]
pub(crate) struct SlotsFull;

/// Why [`Slots::insert_new`] added nothing.
#[derive(Debug)]
pub(crate) enum NotInserted {
    /// An entry with this id is there already.
    Exists(Entry),
    /// No slot number left.
    Full,
}

#[derive(Debug, Default)]
pub(crate) struct Slots {
    entries: Vec<Option<Entry>>,
    /// Slots emptied by removals, reused first.
    free: Vec<u32>,
    /// Slot numbers, hashed by their entry's id.
    by_id: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

/// Whether the entry in `slot` is job `id` (whose hash is `id_hash`): the
/// stored hash first, so a mismatch rarely reads the id itself.
fn is_at(entries: &[Option<Entry>], slot: u32, id: &str, id_hash: u32) -> bool {
    entries
        .get(slot as usize)
        .and_then(Option::as_ref)
        .is_some_and(|entry| entry.id_hash() == id_hash && entry.job.id().as_str() == id)
}

/// The table's hash of an id hash: its 32 bits spread over 64, so that
/// both the bucket (low bits) and the tag (top bits) vary with them.
fn table_hash(id_hash: u32) -> u64 {
    u64::from(id_hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The table hash of the entry in `slot`, from its stored id hash (for
/// growing the table: no id is read or hashed).
fn table_hash_at(entries: &[Option<Entry>], slot: u32) -> u64 {
    let stored = entries.get(slot as usize).and_then(Option::as_ref);
    table_hash(stored.map_or(0, Entry::id_hash))
}

impl Slots {
    /// The id hash [`Entry::id_hash`] holds for `id`.
    fn id_hash(&self, id: &str) -> u32 {
        // The low half of a 64-bit hash (truncation intended).
        self.hasher.hash_one(id) as u32
    }

    /// The slot job `id` is in.
    pub fn slot_of(&self, id: &str) -> Option<u32> {
        let id_hash = self.id_hash(id);
        let entries = &self.entries;
        self.by_id
            .find(table_hash(id_hash), |&slot| {
                is_at(entries, slot, id, id_hash)
            })
            .copied()
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        let slot = self.slot_of(id)?;
        self.entries.get(slot as usize)?.as_ref()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.slot_of(id).is_some()
    }

    /// The entry in `slot`.
    pub fn at(&self, slot: u32) -> Option<&Entry> {
        self.entries.get(slot as usize)?.as_ref()
    }

    /// The entry in `slot`, to change (not its id).
    pub fn at_mut(&mut self, slot: u32) -> Option<&mut Entry> {
        self.entries.get_mut(slot as usize)?.as_mut()
    }

    /// Adds an entry unless its id is there already (one lookup for both
    /// the check and the insert); returns its slot, or the entry back.
    pub fn insert_new(&mut self, mut entry: Entry) -> Result<u32, NotInserted> {
        let id_hash = self.id_hash(entry.job.id().as_str());
        entry.set_id_hash(id_hash);
        let Slots {
            entries,
            free,
            by_id,
            ..
        } = self;
        let vacant = {
            let id = entry.job.id().as_str();
            let found = by_id.entry(
                table_hash(id_hash),
                |&slot| is_at(entries, slot, id, id_hash),
                |&slot| table_hash_at(entries, slot),
            );
            match found {
                hashbrown::hash_table::Entry::Occupied(_) => {
                    return Err(NotInserted::Exists(entry))
                }
                hashbrown::hash_table::Entry::Vacant(vacant) => vacant,
            }
        };
        let slot = match free.pop() {
            Some(slot) => match entries.get_mut(slot as usize) {
                Some(place) => {
                    *place = Some(entry);
                    slot
                }
                None => return Err(NotInserted::Full),
            },
            None => {
                let slot = u32::try_from(entries.len()).map_err(|_| NotInserted::Full)?;
                entries.push(Some(entry));
                slot
            }
        };
        vacant.insert(slot);
        Ok(slot)
    }

    /// Takes job `id` out; returns its slot (free now) and entry.
    pub fn remove(&mut self, id: &str) -> Option<(u32, Entry)> {
        let id_hash = self.id_hash(id);
        let entries = &self.entries;
        let found = self
            .by_id
            .find_entry(table_hash(id_hash), |&slot| {
                is_at(entries, slot, id, id_hash)
            })
            .ok()?;
        let (slot, _) = found.remove();
        let entry = self.entries.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some((slot, entry))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;
    use crate::state::Entry;
    use chime_core::job::{JobDefaults, NewJob, PackedJob};
    use chime_core::trigger::IntervalTrigger;
    use chrono::{DateTime, Utc};

    fn entry(id: &str) -> Entry {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
        let trigger = IntervalTrigger::seconds(60).unwrap_or_else(|e| panic!("{e}"));
        let job = NewJob::new("task", trigger)
            .id(id)
            .into_job(now, &JobDefaults::default(), chime_core::chrono_tz::UTC)
            .unwrap_or_else(|e| panic!("{e}"));
        Entry::new(PackedJob::pack(job).0, 0, None)
    }

    fn ids(slots: &Slots) -> Vec<String> {
        let mut ids: Vec<String> = slots.iter().map(|e| e.job.id().to_string()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn entries_are_found_by_id_through_growth_and_removal() {
        let mut slots = Slots::default();
        // Enough to make the table grow (and rehash) several times.
        for i in 0..5_000 {
            slots.insert_new(entry(&format!("job-{i}"))).unwrap();
        }
        for i in (0..5_000).step_by(2) {
            let removed = slots.remove(&format!("job-{i}"));
            assert_eq!(
                removed.map(|(_, e)| e.job.id().to_string()),
                Some(format!("job-{i}"))
            );
        }
        assert!(slots.remove("job-0").is_none(), "removed once only");
        for i in 0..5_000 {
            assert_eq!(slots.contains(&format!("job-{i}")), i % 2 == 1, "job-{i}");
        }
        // Emptied slots are reused, and what was there is not found.
        slots.insert_new(entry("new")).unwrap();
        assert_eq!(slots.entries.len(), 5_000);
        assert_eq!(slots.get("new").map(|e| e.job.id().as_str()), Some("new"));
        assert!(slots.get("job-4998").is_none());
        let later = "2030-01-01T00:00:00Z".parse().ok();
        if let Some(e) = slots.slot_of("job-1").and_then(|slot| slots.at_mut(slot)) {
            e.job.set_next_run_time(later);
        }
        assert_eq!(
            slots.get("job-1").and_then(|e| e.job.next_run_time()),
            later
        );
        assert_eq!(ids(&slots).len(), 2_501);
    }
}
