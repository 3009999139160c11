//! A fast hash for the import's maps of ids and keys: words are combined as the Rust
//! compiler's FxHash does, and the result is mixed (MurmurHash3's finalizer) so that keys
//! differing only in their last characters (`RES1`, `RES2`, …) spread over the table. The
//! keys come from the school's own export, so hash flooding is no concern here.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub(super) type Map<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub(super) type Set<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

fn hash(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A set of strings held in one buffer (no allocation per string): each string gets a
/// number, in the order the strings are first added.
#[derive(Default)]
pub(super) struct Strings {
    text: String,
    /// Where each string ends in `text` (it starts where the one before ends).
    ends: Vec<usize>,
    /// Open addressing: (number plus one, zero for an empty slot; the hash's high bits).
    slots: Vec<(u32, u32)>,
}

impl Strings {
    /// Room for `n` strings without growing.
    pub(super) fn with_capacity(n: usize) -> Strings {
        let mut s = Strings {
            ends: Vec::with_capacity(n),
            ..Strings::default()
        };
        s.slots = vec![(0, 0); (2 * n + 2).next_power_of_two().max(64)];
        s
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The string numbered `i`.
    pub(super) fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The number of `s`, and whether it is new (then it is added).
    pub(super) fn add(&mut self, s: &str) -> (u32, bool) {
        if self.slots.len() < 2 * (self.len() + 1) {
            self.grow();
        }
        let h = hash(s);
        let slot = self.find(s, h);
        match self.slots[slot].0 {
            0 => {
                let n = u32::try_from(self.len()).expect("fewer than 2^32 strings");
                self.text.push_str(s);
                self.ends.push(self.text.len());
                self.slots[slot] = (n + 1, (h >> 32) as u32);
                (n, true)
            }
            n => (n - 1, false),
        }
    }

    /// The slot of `s` (whose hash is `h`), or the empty slot where it would go.
    fn find(&self, s: &str, h: u64) -> usize {
        let mask = self.slots.len() - 1;
        let high = (h >> 32) as u32;
        let mut slot = h as usize & mask;
        loop {
            match self.slots[slot] {
                (0, _) => return slot,
                (n, hh) if hh == high && self.get(n - 1) == s => return slot,
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); size]);
        let mask = size - 1;
        for (n, high) in old.into_iter().filter(|(n, _)| *n != 0) {
            let h = hash(self.get(n - 1));
            debug_assert_eq!((h >> 32) as u32, high);
            let mut slot = h as usize & mask;
            while self.slots[slot].0 != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (n, high);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_numbered_once() {
        let mut s = Strings::with_capacity(10);
        for i in 0..5000 {
            assert_eq!(s.add(&format!("id{i}")), (i, true));
        }
        assert_eq!(s.add("id42"), (42, false));
        assert_eq!(s.add(""), (5000, true));
        assert_eq!(s.get(4999), "id4999");
        assert_eq!(s.get(5000), "");
        assert_eq!(s.add("id7"), (7, false));
        assert_eq!(s.len(), 5001);
    }

    #[test]
    fn keys_that_differ_hash_apart() {
        let mut m: Map<String, usize> = Map::default();
        for i in 0..10_000 {
            m.insert(format!("RES{i}"), i);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m["RES4321"], 4321);
        assert!(!m.contains_key("RES10000"));
        // Keys alike but for their last characters land in many buckets.
        let buckets: Set<u64> = (0..1000)
            .map(|i| {
                let mut h = FxHasher::default();
                h.write(format!("RES12345{i}").as_bytes());
                h.finish() & 1023
            })
            .collect();
        assert!(buckets.len() > 500, "{}", buckets.len());
    }
}
