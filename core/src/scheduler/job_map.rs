//! A map keyed by store alias and job id that looks entries up by `&str`
//! without building a key: the scheduler consults such maps for every run.

use std::collections::HashMap;

use arcstr::ArcStr;

/// A hash map with a fast, randomly seeded hasher (job ids come from users).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Store alias → job id → `V`.
#[derive(Debug)]
pub(crate) struct JobMap<V> {
    stores: FastMap<String, FastMap<ArcStr, V>>,
}

impl<V> Default for JobMap<V> {
    fn default() -> Self {
        JobMap {
            stores: FastMap::default(),
        }
    }
}

impl<V> JobMap<V> {
    pub fn get(&self, store: &str, job_id: &str) -> Option<&V> {
        self.stores.get(store)?.get(job_id)
    }

    pub fn insert(&mut self, store: &str, job_id: &ArcStr, value: V) {
        match self.stores.get_mut(store) {
            Some(jobs) => {
                jobs.insert(job_id.clone(), value);
            }
            None => {
                let mut jobs = FastMap::default();
                jobs.insert(job_id.clone(), value);
                self.stores.insert(store.to_owned(), jobs);
            }
        }
    }

    pub fn remove(&mut self, store: &str, job_id: &str) -> Option<V> {
        self.stores.get_mut(store)?.remove(job_id)
    }

    /// Entries over all stores.
    pub fn len(&self) -> usize {
        self.stores.values().map(FastMap::len).sum()
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        for jobs in self.stores.values_mut() {
            jobs.retain(|_, value| keep(value));
        }
    }

    pub fn clear(&mut self) {
        self.stores.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::JobMap;

    #[test]
    fn entries_are_per_store_and_job() {
        let mut map = JobMap::default();
        map.insert("a", &"j".into(), 1);
        map.insert("b", &"j".into(), 2);
        assert_eq!((map.get("a", "j"), map.get("b", "j")), (Some(&1), Some(&2)));
        map.insert("a", &"j".into(), 11);
        assert_eq!(map.remove("a", "j"), Some(11));
        assert_eq!(map.get("a", "j"), None);
        assert_eq!(map.len(), 1);
        map.insert("a", &"k".into(), 3);
        map.retain(|v| *v > 2);
        assert_eq!((map.get("b", "j"), map.get("a", "k")), (None, Some(&3)));
        map.clear();
        assert_eq!(map.len(), 0);
    }
}
