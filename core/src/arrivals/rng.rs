//! Per-stream random number generation (ENGINE.md §9.1).
//!
//! Every arrival stream owns its own generator, keyed by `(rng_seed, agent_id,
//! stream_name)`, so that changing one agent's arrival settings never shifts
//! another agent's draws (common random numbers across optimisation trials).
//! Everything here is integer arithmetic plus one exact float scaling, so the
//! streams are bit-identical on every platform.

use serde::{Deserialize, Serialize};

/// Increment of SplitMix64 (the 64-bit golden ratio).
const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// FNV-1a-64 offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a-64 prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Separator between agent id and stream name in the stream key. It is the
/// ASCII "unit separator", which cannot occur in ordinary identifiers, so
/// `("AB", "C")` and `("A", "BC")` hash differently.
const KEY_SEPARATOR: u8 = 0x1F;
/// 2^-53: scales a 53-bit integer into [0, 1) exactly (both factors are exact
/// in f64, so the product is exact too).
const TWO_POW_NEG_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// One SplitMix64 step: returns `(new_state, output)`.
///
/// Used only to expand a 64-bit seed into xoshiro state; SplitMix64 outputs are
/// never all zero for four successive steps, so the xoshiro state is valid.
pub fn splitmix64(x: u64) -> (u64, u64) {
    let x = x.wrapping_add(SPLITMIX_GAMMA);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x, z ^ (z >> 31))
}

/// Continues an FNV-1a-64 hash over more bytes; lets the stream key be hashed
/// without allocating the concatenated byte string.
fn fnv1a64_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// FNV-1a-64 of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_extend(FNV_OFFSET, bytes)
}

/// Stream key = FNV-1a-64(agent_id bytes ‖ 0x1F ‖ stream_name bytes).
pub fn stream_key(agent_id: &str, stream_name: &str) -> u64 {
    let h = fnv1a64_extend(FNV_OFFSET, agent_id.as_bytes());
    let h = fnv1a64_extend(h, &[KEY_SEPARATOR]);
    fnv1a64_extend(h, stream_name.as_bytes())
}

/// xoshiro256++ generator.
///
/// Serializable so that checkpoints can store each stream's exact position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Xoshiro256pp {
    s: [u64; 4],
}

impl Xoshiro256pp {
    /// The generator of one arrival stream: state = four successive SplitMix64
    /// outputs starting from `rng_seed XOR stream_key(agent_id, stream_name)`.
    pub fn for_stream(rng_seed: u64, agent_id: &str, stream_name: &str) -> Self {
        let mut x = rng_seed ^ stream_key(agent_id, stream_name);
        let mut s = [0u64; 4];
        for word in &mut s {
            let (next, out) = splitmix64(x);
            x = next;
            *word = out;
        }
        Self { s }
    }

    /// Restores a generator from raw state (e.g. from a checkpoint).
    ///
    /// The all-zero state is a fixed point of xoshiro (it yields zeros forever);
    /// `for_stream` never produces it, and callers restoring state are trusted
    /// to pass back what `state()` gave them.
    pub fn from_state(s: [u64; 4]) -> Self {
        Self { s }
    }

    /// The raw state, for checkpoints and for tests that check a draw was skipped.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Next 64-bit output (xoshiro256++).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform f64 in [0, 1) with 53 random bits. The top bits are used because
    /// they are the strongest bits of xoshiro output; the result is never 1.0,
    /// which keeps `ln(1 − u)` finite in the samplers.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * TWO_POW_NEG_53
    }

    /// Unbiased integer in `[0, n)` by Lemire's multiply-and-reject method
    /// (one draw in the common case, more only on rejection).
    ///
    /// `n == 0` is an empty range and therefore a caller bug; rather than divide
    /// by zero it returns 0 **without consuming a draw**.
    pub fn bounded(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            // 2^64 mod n: the number of low values that would over-represent
            // some outputs. Computed only on the rare path because `%` is slow.
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }
}

/// Seed for an external (Python) arrival generator of `(agent_id, name)`.
///
/// It is the first `next_u64()` of `Xoshiro256pp::for_stream(rng_seed,
/// agent_id, name)`: a generator output rather than a raw state word, so that
/// it is exactly what the engine's own stream of that name would draw first,
/// and it is documented as such for plugin authors who want to reproduce it.
/// Distinct `(agent_id, name)` pairs give unrelated seeds, so plugin streams
/// keep the common-random-numbers property of built-in streams.
pub fn derive_seed(rng_seed: u64, agent_id: &str, name: &str) -> u64 {
    Xoshiro256pp::for_stream(rng_seed, agent_id, name).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_known_answers_from_zero() {
        let expected = [
            0xE220_A839_7B1D_CDAF,
            0x6E78_9E6A_A1B9_65F4,
            0x06C4_5D18_8009_454F,
        ];
        let mut x = 0u64;
        for &want in &expected {
            let (next, out) = splitmix64(x);
            assert_eq!(out, want);
            x = next;
        }
        assert_eq!(x, SPLITMIX_GAMMA.wrapping_mul(3));
    }

    #[test]
    fn splitmix64_wraps_without_panicking() {
        let (x, _) = splitmix64(u64::MAX);
        assert_eq!(x, SPLITMIX_GAMMA - 1);
    }

    #[test]
    fn fnv1a64_known_answers() {
        let cases: &[(&[u8], u64)] = &[
            (b"", 0xcbf2_9ce4_8422_2325),
            (b"a", 0xaf63_dc4c_8601_ec8c),
            (b"foobar", 0x8594_4171_f739_67e8),
        ];
        for &(input, want) in cases {
            assert_eq!(fnv1a64(input), want, "input {input:?}");
        }
    }

    #[test]
    fn stream_key_is_fnv_of_joined_bytes() {
        let cases = [
            ("BANK_A", "single"),
            ("", ""),
            ("A", "urgent"),
            ("ü", "low"),
        ];
        for (agent, stream) in cases {
            let mut joined = agent.as_bytes().to_vec();
            joined.push(0x1F);
            joined.extend_from_slice(stream.as_bytes());
            assert_eq!(stream_key(agent, stream), fnv1a64(&joined));
        }
        // The separator keeps differently split names apart.
        assert_ne!(stream_key("AB", "C"), stream_key("A", "BC"));
    }

    #[test]
    fn xoshiro_known_answer_from_1234() {
        let mut rng = Xoshiro256pp::from_state([1, 2, 3, 4]);
        assert_eq!(rng.next_u64(), 41_943_041);
        // Further reference outputs of xoshiro256++ from [1, 2, 3, 4].
        assert_eq!(rng.next_u64(), 58_720_359);
        assert_eq!(rng.next_u64(), 3_588_806_011_781_223);
    }

    #[test]
    fn for_stream_state_is_splitmix_expansion() {
        let seed = 0x1234_5678_9abc_def0;
        let rng = Xoshiro256pp::for_stream(seed, "BANK_A", "single");
        let mut x = seed ^ stream_key("BANK_A", "single");
        for word in rng.state() {
            let (next, out) = splitmix64(x);
            assert_eq!(word, out);
            x = next;
        }
    }

    #[test]
    fn same_inputs_give_same_sequence() {
        let mut a = Xoshiro256pp::for_stream(7, "BANK_A", "normal");
        let mut b = Xoshiro256pp::for_stream(7, "BANK_A", "normal");
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn different_streams_agents_and_seeds_differ() {
        let base: Vec<u64> = {
            let mut r = Xoshiro256pp::for_stream(7, "BANK_A", "single");
            (0..8).map(|_| r.next_u64()).collect()
        };
        let others = [
            (7, "BANK_A", "urgent"),
            (7, "BANK_A", "normal"),
            (7, "BANK_A", "low"),
            (7, "BANK_B", "single"),
            (8, "BANK_A", "single"),
        ];
        for (seed, agent, stream) in others {
            let mut r = Xoshiro256pp::for_stream(seed, agent, stream);
            let seq: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
            assert_ne!(seq, base, "{seed} {agent} {stream}");
        }
    }

    #[test]
    fn derive_seed_is_first_output_of_stream() {
        for (seed, agent, name) in [
            (0, "A", "single"),
            (42, "BANK_B", "plugin"),
            (u64::MAX, "", ""),
        ] {
            let mut rng = Xoshiro256pp::for_stream(seed, agent, name);
            assert_eq!(derive_seed(seed, agent, name), rng.next_u64());
        }
        assert_ne!(derive_seed(1, "A", "x"), derive_seed(1, "A", "y"));
    }

    #[test]
    fn next_f64_is_in_unit_interval_and_uses_top_bits() {
        let mut rng = Xoshiro256pp::for_stream(3, "A", "single");
        let mut copy = rng.clone();
        for _ in 0..10_000 {
            let u = rng.next_f64();
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u, (copy.next_u64() >> 11) as f64 / 9_007_199_254_740_992.0);
        }
        // Extremes: an all-ones output maps just below 1.
        let max = (u64::MAX >> 11) as f64 * TWO_POW_NEG_53;
        assert!(max < 1.0);
    }

    #[test]
    fn bounded_zero_returns_zero_without_a_draw() {
        let mut rng = Xoshiro256pp::for_stream(1, "A", "single");
        let before = rng.clone();
        assert_eq!(rng.bounded(0), 0);
        assert_eq!(rng, before);
    }

    #[test]
    fn bounded_one_draws_once_and_returns_zero() {
        let mut rng = Xoshiro256pp::for_stream(1, "A", "single");
        let mut reference = rng.clone();
        assert_eq!(rng.bounded(1), 0);
        reference.next_u64();
        assert_eq!(rng, reference);
    }

    #[test]
    fn bounded_matches_lemire_definition() {
        // Cross-check against a direct restatement: high word of x·n, with
        // rejection of low words below 2^64 mod n.
        let mut rng = Xoshiro256pp::for_stream(99, "A", "b");
        let mut raw = rng.clone();
        for n in [2u64, 3, 7, 10, 1000, (1 << 63) + 1, u64::MAX] {
            for _ in 0..200 {
                let got = rng.bounded(n);
                let threshold = (u128::from(u64::MAX) + 1 - u128::from(n)) % u128::from(n);
                let want = loop {
                    let m = u128::from(raw.next_u64()) * u128::from(n);
                    if u128::from(m as u64) >= threshold {
                        break (m >> 64) as u64;
                    }
                };
                assert_eq!(got, want, "n = {n}");
                assert!(got < n);
            }
        }
    }

    /// Wilson–Hilferty approximation of the chi-square quantile at `z`
    /// standard deviations (z = 5 is a ~3e-7 false-alarm rate).
    fn chi_square_threshold(df: f64, z: f64) -> f64 {
        let c = 2.0 / (9.0 * df);
        df * (1.0 - c + z * c.sqrt()).powi(3)
    }

    #[test]
    fn bounded_is_uniform_chi_square() {
        const DRAWS: usize = 300_000;
        for (n, seed) in [(3u64, 11u64), (7, 12), (10, 13)] {
            let mut rng = Xoshiro256pp::for_stream(seed, "BANK_A", "single");
            let mut counts = vec![0u64; n as usize];
            for _ in 0..DRAWS {
                let v = rng.bounded(n);
                assert!(v < n);
                counts[v as usize] += 1;
            }
            let expected = DRAWS as f64 / n as f64;
            let chi2: f64 = counts
                .iter()
                .map(|&c| (c as f64 - expected).powi(2) / expected)
                .sum();
            let limit = chi_square_threshold((n - 1) as f64, 5.0);
            assert!(
                chi2 < limit,
                "n = {n}: chi2 {chi2} ≥ {limit}, counts {counts:?}"
            );
        }
    }

    /// Golden values, cross-checked against an independent re-implementation
    /// of §9.1 written from the spec text. They pin the stream derivation so a
    /// later refactor (or the copy into the engine) cannot silently change it.
    #[test]
    fn golden_stream_values() {
        let mut r = Xoshiro256pp::for_stream(7, "BANK_A", "single");
        assert_eq!(
            r.state(),
            [
                12_636_981_733_140_145_400,
                5_611_378_116_437_053_329,
                12_029_704_296_730_616_835,
                5_046_085_573_793_047_329,
            ]
        );
        let outputs = [
            12_883_705_287_863_031_912u64,
            1_174_768_714_740_127_465,
            1_462_979_576_777_449_301,
        ];
        for want in outputs {
            assert_eq!(r.next_u64(), want);
        }
        let bounded: Vec<u64> = (0..3).map(|_| r.bounded(7)).collect();
        assert_eq!(bounded, [1, 2, 5]);
        assert_eq!(
            derive_seed(7, "BANK_B", "plugin"),
            13_577_039_775_324_748_689
        );
    }

    fn assert_serde<T: Serialize + for<'de> Deserialize<'de>>() {}

    #[test]
    fn state_restores_position_and_is_serializable() {
        assert_serde::<Xoshiro256pp>();
        let mut rng = Xoshiro256pp::for_stream(5, "A", "single");
        rng.next_u64();
        let mut restored = Xoshiro256pp::from_state(rng.state());
        assert_eq!(restored, rng);
        assert_eq!(restored.next_u64(), rng.next_u64());
    }
}
