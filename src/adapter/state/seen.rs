//! The keys a scan returned already, as 64-bit fingerprints, so a key SCAN returns twice comes
//! out once.

use std::hash::BuildHasher;

/// A set of 64-bit key fingerprints in 256 flat tables (linear probing, at most 3/4 full),
/// chosen by the fingerprint's top byte. Not a hash set crate: a page's fingerprints are
/// computed first and their slots prefetched a few keys ahead, so the cache misses of ten
/// million random inserts overlap instead of queueing; and a table that grows is 1/256 of the
/// set, so its rehash stays in the cache instead of moving the whole set at once.
pub(crate) struct Seen {
    hasher: foldhash::quality::RandomState,
    tables: Vec<Table>,
}

#[derive(Default)]
struct Table {
    slots: Vec<u64>,
    len: usize,
}

const EMPTY: u64 = 0;
const TABLES: usize = 256;
/// How far ahead of an insert its slot is prefetched.
const AHEAD: usize = 16;

impl Default for Seen {
    fn default() -> Self {
        Self {
            hasher: foldhash::quality::RandomState::default(),
            tables: (0..TABLES).map(|_| Table::default()).collect(),
        }
    }
}

impl Seen {
    /// The keys of `page` not seen before, in their order (a key twice in `page` once).
    pub(crate) fn keep_new(&mut self, page: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        // Never EMPTY: a fingerprint of 0 is stored as 1 (two keys whose 64-bit hashes are
        // both 0 or 1 are taken as one; so are any two with the same 64 bits).
        let prints: Vec<u64> = page
            .iter()
            .map(|k| self.hasher.hash_one(k).max(1))
            .collect();
        let mut fresh = vec![false; page.len()];
        for (i, &p) in prints.iter().enumerate() {
            if let Some(&ahead) = prints.get(i + AHEAD) {
                self.prefetch(ahead);
            }
            fresh[i] = self.insert(p);
        }
        page.into_iter()
            .zip(fresh)
            .filter_map(|(k, new)| new.then_some(k))
            .collect()
    }

    fn table(&mut self, print: u64) -> &mut Table {
        &mut self.tables[(print >> 56) as usize]
    }

    fn prefetch(&self, print: u64) {
        let t = &self.tables[(print >> 56) as usize];
        if let Some(mask) = t.slots.len().checked_sub(1) {
            prefetch(&t.slots[print as usize & mask]);
        }
    }

    fn insert(&mut self, print: u64) -> bool {
        self.table(print).insert(print)
    }
}

impl Table {
    fn insert(&mut self, print: u64) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = print as usize & mask;
        loop {
            match self.slots[at] {
                EMPTY => {
                    self.slots[at] = print;
                    self.len += 1;
                    return true;
                }
                s if s == print => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let mask = size - 1;
        for print in old.into_iter().filter(|&s| s != EMPTY) {
            let mut at = print as usize & mask;
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = print;
        }
    }
}

/// Asks the CPU to bring the memory at `at` into the cache (where the CPU has a way to ask).
fn prefetch(at: &u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults; SSE is part of every x86_64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (at as *const u64).cast(),
        )
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
        range
            .map(|i| format!("motia:state:t{}:k{i}", i % 97).into_bytes())
            .collect()
    }

    #[test]
    fn each_key_comes_out_once_across_pages_and_within_one() {
        let mut seen = Seen::default();
        assert_eq!(seen.keep_new(keys(0..1000)).len(), 1000);
        let mut again = keys(500..1500);
        again.extend(keys(1400..1600));
        let fresh = seen.keep_new(again);
        assert_eq!(fresh, keys(1000..1600), "new keys, in order, each once");
        assert!(seen.keep_new(keys(0..1600)).is_empty());
    }

    #[test]
    fn growing_keeps_every_key() {
        let mut seen = Seen::default();
        for chunk in 0..200u32 {
            let page = keys(chunk * 1000..(chunk + 1) * 1000);
            assert_eq!(seen.keep_new(page).len(), 1000);
        }
        assert_eq!(seen.tables.iter().map(|t| t.len).sum::<usize>(), 200_000);
        assert!(seen.keep_new(keys(0..200_000)).is_empty());
        assert_eq!(
            seen.keep_new(vec![Vec::new(), Vec::new()]),
            vec![Vec::<u8>::new()]
        );
    }
}
