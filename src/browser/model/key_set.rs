//! One trace's keys in the index, each with the last scan generation that saw it.

use std::cell::OnceCell;
use std::hash::BuildHasher;

use hashbrown::HashTable;

/// A trace's keys, in the order they came, with a hash table of their positions built only
/// when a key is looked up. A first scan appends keys the index's fingerprints prove new
/// (one write at the end of a vector, where a hash table would take two reads and a write
/// at random places in memory, a million times), so most traces never need the table.
#[derive(Debug, Default)]
pub struct KeySet {
    slots: Vec<Slot>,
    positions: OnceCell<HashTable<usize>>,
    hasher: foldhash::fast::RandomState,
}

#[derive(Debug)]
struct Slot {
    key: String,
    /// Kept so the table is built and grown without reading a key's bytes again.
    hash: u64,
    seen: u64,
}

impl KeySet {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.position(key, self.hasher.hash_one(key)).is_some()
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|s| s.key.as_str())
    }

    /// Marks `key` as seen by `generation`; true when it is new.
    pub fn insert(&mut self, key: &str, generation: u64) -> bool {
        let hash = self.hasher.hash_one(key);
        match self.position(key, hash) {
            Some(at) => {
                self.slots[at].seen = generation;
                false
            }
            None => {
                self.push(key.to_owned(), hash, generation);
                true
            }
        }
    }

    /// [`insert`](Self::insert) of the key `name[key_at..]` (at a char boundary): a new key
    /// keeps `name`'s allocation rather than being copied.
    pub fn insert_owned(&mut self, name: String, key_at: usize, generation: u64) -> bool {
        self.insert_name(name, key_at, generation, true)
    }

    /// Adds the key `name[key_at..]`, known not to be here, without looking it up; false when
    /// `key_at` is no char boundary.
    pub fn insert_new_owned(&mut self, name: String, key_at: usize, generation: u64) -> bool {
        self.insert_name(name, key_at, generation, false)
    }

    fn insert_name(
        &mut self,
        mut name: String,
        key_at: usize,
        generation: u64,
        look: bool,
    ) -> bool {
        let Some(key) = name.get(key_at..) else {
            return false;
        };
        let hash = self.hasher.hash_one(key);
        if let Some(at) = look.then(|| self.position(key, hash)).flatten() {
            self.slots[at].seen = generation;
            return false;
        }
        name.drain(..key_at);
        self.push(name, hash, generation);
        true
    }

    fn push(&mut self, key: String, hash: u64, seen: u64) {
        let at = self.slots.len();
        self.slots.push(Slot { key, hash, seen });
        if let Some(positions) = self.positions.get_mut() {
            let slots = &self.slots;
            positions.insert_unique(hash, at, |&p| slots[p].hash);
        }
    }

    fn position(&self, key: &str, hash: u64) -> Option<usize> {
        let slots = &self.slots;
        self.positions()
            .find(hash, |&p| slots[p].hash == hash && slots[p].key == key)
            .copied()
    }

    fn positions(&self) -> &HashTable<usize> {
        self.positions.get_or_init(|| {
            let mut table = HashTable::with_capacity(self.slots.len());
            for (at, slot) in self.slots.iter().enumerate() {
                table.insert_unique(slot.hash, at, |&p| self.slots[p].hash);
            }
            table
        })
    }

    /// Forgets `key`; true when it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        let hash = self.hasher.hash_one(key);
        self.positions();
        let Some(positions) = self.positions.get_mut() else {
            return false;
        };
        let slots = &mut self.slots;
        let Ok(found) =
            positions.find_entry(hash, |&p| slots[p].hash == hash && slots[p].key == key)
        else {
            return false;
        };
        let (at, _) = found.remove();
        slots.swap_remove(at);
        // The last key moved into the hole: its position changes.
        if let Some(moved) = slots.get(at) {
            let last = slots.len();
            if let Some(p) = positions.find_mut(moved.hash, |&p| p == last) {
                *p = at;
            }
        }
        true
    }

    /// Drops the keys `generation` did not see; how many.
    pub fn keep_seen_by(&mut self, generation: u64) -> usize {
        let before = self.slots.len();
        self.slots.retain(|s| s.seen >= generation);
        if self.slots.len() != before {
            self.positions.take();
        }
        before - self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_inserted_once_and_an_owned_name_keeps_only_its_key() {
        let mut set = KeySet::default();
        assert!(set.insert_owned("motia:state:t:a".to_owned(), 14, 1));
        assert!(!set.insert("a", 2), "already there");
        assert!(set.insert("b", 2));
        assert!(!set.insert_owned("motia:state:t:b".to_owned(), 14, 2));
        assert!(set.insert_new_owned("motia:state:t:c".to_owned(), 14, 2));
        assert_eq!(set.len(), 3);
        let mut keys: Vec<&str> = set.keys().collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(set.contains("a") && set.contains("c") && !set.contains("t:a"));
    }

    #[test]
    fn an_owned_name_cut_inside_a_character_is_refused() {
        let mut set = KeySet::default();
        assert!(!set.insert_owned("p:t:é".to_owned(), 5, 1));
        assert!(!set.insert_new_owned("p:t:é".to_owned(), 5, 1));
        assert!(set.is_empty());
    }

    #[test]
    fn removing_moves_the_last_key_and_both_stay_findable() {
        let mut set = KeySet::default();
        for (k, generation) in [("a", 1), ("b", 1), ("c", 2), ("d", 2)] {
            set.insert(k, generation);
        }
        assert!(set.remove("a") && !set.remove("a"));
        assert!(set.contains("d") && set.contains("b") && !set.contains("a"));
        assert!(set.remove("d") && set.contains("c"));
        assert_eq!(set.keep_seen_by(2), 1);
        assert_eq!(set.keys().collect::<Vec<_>>(), ["c"]);
        assert!(set.contains("c") && !set.contains("b"));
        assert!(set.insert("b", 3) && set.contains("b"));
    }

    #[test]
    fn keys_appended_before_and_after_the_table_is_built_are_all_found() {
        let mut set = KeySet::default();
        for i in 0..5_000 {
            assert!(set.insert_new_owned(format!("p:t:k{i}"), 4, 1));
        }
        assert!(set.contains("k0"), "builds the table");
        for i in 5_000..10_000 {
            assert!(set.insert_new_owned(format!("p:t:k{i}"), 4, 1));
        }
        assert!((0..10_000).all(|i| set.contains(&format!("k{i}"))));
        assert!(!set.contains("k10000"));
        assert!(!set.insert("k9999", 2));
        assert_eq!(set.len(), 10_000);
    }
}
