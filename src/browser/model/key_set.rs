//! One trace's keys in the index, each with the last scan generation that saw it.

use std::cell::OnceCell;
use std::hash::BuildHasher;

use hashbrown::HashTable;

/// A trace's keys, in the order they came: their bytes appended to one buffer, each key 12
/// bytes of offset, length and generation (ten million short names would otherwise cost ten
/// million heap allocations and a 24-byte `String` each). A hash table of positions is built
/// only when a key is looked up: a first scan appends keys the index's fingerprints prove
/// new, so most traces never need it, and [`shrink`](Self::shrink) drops it again.
#[derive(Debug, Default)]
pub struct KeySet {
    /// The keys' bytes, back to back (whole `&str`s, so every slice of a slot is one too).
    names: String,
    slots: Vec<Slot>,
    /// Bytes of `names` no slot points to any more (left by removals).
    garbage: usize,
    positions: OnceCell<HashTable<u32>>,
    hasher: foldhash::fast::RandomState,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    at: u32,
    len: u32,
    seen: u32,
}

/// A scan generation as a slot keeps it (four billion scans do not happen in one session).
fn generation32(generation: u64) -> u32 {
    u32::try_from(generation).unwrap_or(u32::MAX)
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
        self.slots.iter().map(|s| key_of(&self.names, s))
    }

    /// Marks `key` as seen by `generation`; true when it is new (false too when it does not
    /// fit: a trace's keys are at most 4 GiB of bytes and 4 billion keys).
    pub fn insert(&mut self, key: &str, generation: u64) -> bool {
        let hash = self.hasher.hash_one(key);
        match self.position(key, hash) {
            Some(at) => {
                self.slots[at].seen = generation32(generation);
                false
            }
            None => self.push(key, hash, generation),
        }
    }

    /// Adds `key`, known not to be here, without looking it up; false when it does not fit.
    pub fn insert_new(&mut self, key: &str, generation: u64) -> bool {
        // The hash is only needed once the table exists.
        let hash = match self.positions.get() {
            Some(_) => self.hasher.hash_one(key),
            None => 0,
        };
        self.push(key, hash, generation)
    }

    fn push(&mut self, key: &str, hash: u64, generation: u64) -> bool {
        let (Ok(at), Ok(len), Ok(position)) = (
            u32::try_from(self.names.len()),
            u32::try_from(key.len()),
            u32::try_from(self.slots.len()),
        ) else {
            return false;
        };
        if u32::try_from(self.names.len() + key.len()).is_err() {
            return false;
        }
        self.names.push_str(key);
        self.slots.push(Slot {
            at,
            len,
            seen: generation32(generation),
        });
        if let Some(positions) = self.positions.get_mut() {
            let (names, slots, hasher) = (&self.names, &self.slots, &self.hasher);
            positions.insert_unique(hash, position, |&p| {
                hasher.hash_one(key_of(names, &slots[p as usize]))
            });
        }
        true
    }

    fn position(&self, key: &str, hash: u64) -> Option<usize> {
        let (names, slots) = (&self.names, &self.slots);
        self.positions()
            .find(hash, |&p| key_of(names, &slots[p as usize]) == key)
            .map(|&p| p as usize)
    }

    fn positions(&self) -> &HashTable<u32> {
        self.positions.get_or_init(|| {
            let mut table = HashTable::with_capacity(self.slots.len());
            for (at, slot) in (0u32..).zip(&self.slots) {
                let hash = self.hasher.hash_one(key_of(&self.names, slot));
                table.insert_unique(hash, at, |&p| {
                    self.hasher
                        .hash_one(key_of(&self.names, &self.slots[p as usize]))
                });
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
        let (names, slots, hasher) = (&self.names, &mut self.slots, &self.hasher);
        let Ok(found) = positions.find_entry(hash, |&p| key_of(names, &slots[p as usize]) == key)
        else {
            return false;
        };
        let (at, _) = found.remove();
        let at = at as usize;
        self.garbage += slots[at].len as usize;
        slots.swap_remove(at);
        // The last key moved into the hole: its position changes.
        if let Some(moved) = slots.get(at) {
            let last = slots.len();
            let moved_hash = hasher.hash_one(key_of(names, moved));
            if let Some(p) = positions.find_mut(moved_hash, |&p| p as usize == last) {
                *p = at as u32;
            }
        }
        if self.garbage > self.names.len() / 2 {
            self.compact();
        }
        true
    }

    /// Drops the keys `generation` did not see; how many.
    pub fn keep_seen_by(&mut self, generation: u64) -> usize {
        let before = self.slots.len();
        let generation = generation32(generation);
        let mut garbage = 0;
        self.slots.retain(|s| {
            let keep = s.seen >= generation;
            if !keep {
                garbage += s.len as usize;
            }
            keep
        });
        if self.slots.len() != before {
            self.garbage += garbage;
            self.positions.take();
            self.compact();
        }
        before - self.slots.len()
    }

    /// Gives back what growing by doubling left spare, and the table of positions (built
    /// again on the next look-up): called when a scan completes, so a settled index holds
    /// its keys' bytes and 12 bytes a key.
    pub fn shrink(&mut self) {
        self.positions.take();
        if self.garbage > 0 {
            self.compact();
        }
        self.names.shrink_to_fit();
        self.slots.shrink_to_fit();
    }

    /// Copies the keys' bytes into a buffer of their own, leaving out removed keys' bytes;
    /// positions stay, only offsets change.
    fn compact(&mut self) {
        let mut names = String::with_capacity(self.names.len() - self.garbage);
        for slot in &mut self.slots {
            let at = names.len();
            names.push_str(key_of(&self.names, slot));
            // Never more bytes than before, so within `u32` as the old offsets were.
            slot.at = at as u32;
        }
        self.names = names;
        self.garbage = 0;
    }
}

fn key_of<'a>(names: &'a str, slot: &Slot) -> &'a str {
    let at = slot.at as usize;
    names.get(at..at + slot.len as usize).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_inserted_once() {
        let mut set = KeySet::default();
        assert!(set.insert_new("a", 1));
        assert!(!set.insert("a", 2), "already there");
        assert!(set.insert("b", 2));
        assert!(!set.insert("b", 2));
        assert!(set.insert_new("c", 2));
        assert_eq!(set.len(), 3);
        let mut keys: Vec<&str> = set.keys().collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(set.contains("a") && set.contains("c") && !set.contains("t:a"));
    }

    #[test]
    fn names_are_kept_exactly_whatever_their_characters() {
        let mut set = KeySet::default();
        for k in ["é", "\\xff\\x00", "", "a\u{1b}[31m", "日本:語"] {
            assert!(set.insert(k, 1));
        }
        assert!(!set.insert("", 1));
        set.shrink();
        let mut keys: Vec<&str> = set.keys().collect();
        keys.sort();
        assert_eq!(keys, ["", "\\xff\\x00", "a\u{1b}[31m", "é", "日本:語"]);
        assert!(set.contains("日本:語") && !set.contains("日本"));
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
    fn removed_keys_bytes_are_given_back() {
        let mut set = KeySet::default();
        for i in 0..1_000 {
            set.insert(&format!("key{i}"), 1);
        }
        for i in 0..900 {
            assert!(set.remove(&format!("key{i}")));
        }
        assert!(set.names.len() < 2 * 100 * "key999".len(), "compacted");
        assert!((900..1_000).all(|i| set.contains(&format!("key{i}"))));
        assert!(!set.contains("key0") && set.len() == 100);
        set.shrink();
        assert_eq!(set.garbage, 0);
        assert!((900..1_000).all(|i| set.contains(&format!("key{i}"))));
    }

    #[test]
    fn keys_appended_before_and_after_the_table_is_built_are_all_found() {
        let mut set = KeySet::default();
        for i in 0..5_000 {
            assert!(set.insert_new(&format!("k{i}"), 1));
        }
        assert!(set.contains("k0"), "builds the table");
        for i in 5_000..10_000 {
            assert!(set.insert_new(&format!("k{i}"), 1));
        }
        assert!((0..10_000).all(|i| set.contains(&format!("k{i}"))));
        assert!(!set.contains("k10000"));
        assert!(!set.insert("k9999", 2));
        assert_eq!(set.len(), 10_000);
        set.shrink();
        assert!(set.positions.get().is_none());
        assert!(!set.insert("k9999", 2) && set.contains("k42"));
    }
}
