//! Hashes of the names the index holds, for telling a new key from a known one cheaply.

/// A set of hashes (40 bits of each) in 256 flat tables (linear probing, at most half full),
/// chosen by a hash's top byte; each keeps 32 more bits. Absent means the name is new for sure;
/// present means it is probably known (two names can share those bits), and the caller asks the
/// exact set. Not a hash set crate: the scan computes the hashes of a whole batch first and
/// [`prefetch`](Self::prefetch)es their slots a few names ahead, so the million cache misses of
/// a first scan overlap instead of coming one after the other, and no crate's table lets a
/// caller prefetch its slots. A table that grows is 1/256 of the set: at ten million names one
/// table of 64 MB copied at once held key presses for half a second; a 256th of it stays in the
/// cache.
#[derive(Debug)]
pub struct Fingerprints {
    tables: Vec<Table>,
    len: usize,
}

#[derive(Debug, Default)]
struct Table {
    slots: Vec<u32>,
    len: usize,
}

const EMPTY: u32 = 0;
const TABLES: usize = 256;

impl Default for Fingerprints {
    fn default() -> Self {
        Self {
            tables: (0..TABLES).map(|_| Table::default()).collect(),
            len: 0,
        }
    }
}

impl Fingerprints {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds `hash`; true when it was absent.
    pub fn insert(&mut self, hash: u64) -> bool {
        let added = self.tables[table_of(hash)].insert(stored(hash));
        self.len += usize::from(added);
        added
    }

    /// Asks the CPU to bring `hash`'s slot into the cache ahead of an [`insert`](Self::insert).
    pub fn prefetch(&self, hash: u64) {
        let t = &self.tables[table_of(hash)];
        if let Some(mask) = t.slots.len().checked_sub(1) {
            prefetch(&t.slots[slot_of(stored(hash), mask)]);
        }
    }

    /// Room for `n` hashes in all without growing.
    pub fn reserve(&mut self, n: usize) {
        for t in &mut self.tables {
            t.reserve(n / TABLES + 1);
        }
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

impl Table {
    fn insert(&mut self, stored: u32) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = slot_of(stored, mask);
        loop {
            match self.slots[at] {
                EMPTY => {
                    self.slots[at] = stored;
                    self.len += 1;
                    return true;
                }
                s if s == stored => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn reserve(&mut self, n: usize) {
        while n.saturating_mul(2) > self.slots.len() {
            self.grow();
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let mask = self.slots.len() - 1;
        // In the old order, slots land in the new table in nearly ascending order.
        for stored in old.into_iter().filter(|&s| s != EMPTY) {
            let mut at = slot_of(stored, mask);
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = stored;
        }
    }
}

/// Asks the CPU to bring the memory at `at` into the cache (where the CPU has a way to ask).
pub fn prefetch<T: ?Sized>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults; SSE is part of every x86_64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (at as *const T).cast(),
        )
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// What a table keeps of a hash: 32 bits (4 bytes a slot keeps the tables within what the
/// CPU's address cache covers at a million names), never EMPTY. Hashes that agree in those bits are taken as one: a
/// false "probably known", which the exact check answers.
fn stored(hash: u64) -> u32 {
    hash as u32 | 1
}

/// Which table holds a hash: its top byte (the stored bits are its low 32).
fn table_of(hash: u64) -> usize {
    (hash >> 56) as usize
}

/// Where a stored hash goes in a table of `mask + 1` slots (its low bit is always set).
fn slot_of(stored: u32, mask: usize) -> usize {
    (stored >> 1) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_absent_once() {
        let mut f = Fingerprints::default();
        f.prefetch(7);
        assert!(f.insert(42));
        assert!(!f.insert(42));
        assert!(!f.insert(43), "differs only in the folded bit");
        assert!(!f.insert(42 + (7 << 32)), "differs only in bits not kept");
        assert!(f.insert(0), "zero is a hash like any other");
        assert!(!f.insert(1));
        assert!(f.insert(42 | (1 << 60)), "another table");
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn growing_keeps_every_hash() {
        let mut f = Fingerprints::default();
        let hashes: Vec<u64> = (0..100_000u64).map(|i| i << 1).collect();
        for &h in &hashes {
            f.prefetch(h);
            assert!(f.insert(h));
        }
        assert!(hashes.iter().all(|&h| !f.insert(h)));
        assert_eq!(f.len(), 100_000);
        f.reserve(1_000_000);
        assert!(f.tables.iter().all(|t| t.slots.len() * TABLES >= 2_000_000));
        assert!(hashes.iter().all(|&h| !f.insert(h)));
        f.clear();
        assert!(f.insert(hashes[0]));
    }
}
