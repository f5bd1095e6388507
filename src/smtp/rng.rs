//! The one small seeded pseudo-random generator (xorshift64*, from Vigna, "An experimental
//! exploration of Marsaglia's xorshift generators, scrambled", 2016): queue ids and challenges
//! in the server session, and the generated inputs of the property, end-to-end and interop
//! tests (public for tests/ through lib.rs). The same seed gives the same sequence, so a failing
//! generated case can be replayed; not for anything secret (SCRAM nonces come from OpenSSL's
//! generator).

/// xorshift64*: 64 bits of state, never zero.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (0, which xorshift cannot leave, is replaced by a fixed
    /// odd constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 pseudo-random bits. (Not an `Iterator`: the sequence never ends, and callers
    /// draw numbers of different shapes from it.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0; the modulo bias is irrelevant for tests and ids).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `n` pseudo-random bytes (the high bits of each draw, the better mixed ones).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_sequence_and_zero_is_not_stuck() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..4).map(|_| r.next()).collect()
        };
        let mut r = Rng::new(42);
        assert_eq!(a, (0..4).map(|_| r.next()).collect::<Vec<_>>());
        // xorshift64* from state 1, worked out by hand: 1 ^ 1 << 25 = 0x2000001, then
        // ^ >> 27 leaves it, times the multiplier.
        assert_eq!(Rng::new(1).next(), 0x47E4_CE4B_896C_DD1D);
        let mut z = Rng::new(0);
        assert_ne!(z.next(), 0);
        assert_ne!(z.next(), z.next());
        let mut b = Rng::new(7);
        assert!((0..1000).all(|_| b.below(10) < 10));
    }
}
