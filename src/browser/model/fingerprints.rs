//! Hashes of the names the index holds, for telling a new key from a known one cheaply.

/// A set of hashes (32 bits of each) in one flat table (linear probing, at most half full).
/// Absent means the name is new for sure; present means it is probably known (two names can
/// share a hash), and the caller asks the exact set. Not a hash set crate: the scan computes the hashes of a
/// whole batch first and [`prefetch`](Self::prefetch)es their slots a few names ahead, so the
/// million cache misses of a first scan overlap instead of coming one after the other, and no
/// crate's table lets a caller prefetch its slots.
#[derive(Debug, Default)]
pub struct Fingerprints {
    slots: Vec<u32>,
    len: usize,
}

const EMPTY: u32 = 0;

impl Fingerprints {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds `hash`; true when it was absent.
    pub fn insert(&mut self, hash: u64) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let stored = stored(hash);
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

    /// Asks the CPU to bring `hash`'s slot into the cache ahead of an [`insert`](Self::insert).
    pub fn prefetch(&self, hash: u64) {
        if let Some(mask) = self.slots.len().checked_sub(1) {
            prefetch(&self.slots[slot_of(stored(hash), mask)]);
        }
    }

    /// Room for `n` hashes in all without growing.
    pub fn reserve(&mut self, n: usize) {
        while n.saturating_mul(2) > self.slots.len() {
            self.grow();
        }
    }

    pub fn clear(&mut self) {
        self.slots = Vec::new();
        self.len = 0;
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
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

/// What is kept of a hash: 32 bits (a table of 4 bytes a slot stays within what the CPU's
/// address cache covers), never EMPTY. Hashes that agree in those bits are taken as one: a
/// false "probably known", which the exact check answers.
fn stored(hash: u64) -> u32 {
    hash as u32 | 1
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
        assert_eq!(f.len(), 2);
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
        assert!(f.slots.len() >= 2_000_000);
        assert!(hashes.iter().all(|&h| !f.insert(h)));
        f.clear();
        assert!(f.insert(hashes[0]));
    }
}
