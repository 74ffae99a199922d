//! A Zipfian distribution over `0..n`, as YCSB's "zipfian" request distribution draws it: item
//! `i` (from 0) is drawn with probability proportional to `1 / (i + 1)^θ`, with θ = 0.99 in the
//! benchmark. The method is the one of Gray et al., "Quickly generating billion-record synthetic
//! databases" (SIGMOD 1994), which YCSB uses: one uniform number and a few floating-point
//! operations per draw, after an `O(n)` sum once.

use crate::workloads::SplitMix64;

/// The skew of the benchmark's Zipfian workloads (YCSB's default).
pub const THETA: f64 = 0.99;

/// Draws items of `0..n` with Zipfian probabilities.
pub struct Zipfian {
    n: u64,
    theta: f64,
    alpha: f64,
    zeta_n: f64,
    eta: f64,
}

impl Zipfian {
    /// The distribution over `0..n` (`n ≥ 2`) with skew `theta` (`0 < theta < 1`).
    pub fn new(n: u64, theta: f64) -> Zipfian {
        assert!(n >= 2 && theta > 0.0 && theta < 1.0);
        let zeta = |count: u64| {
            (1..=count)
                .map(|i| 1.0 / (i as f64).powf(theta))
                .sum::<f64>()
        };
        let zeta_n = zeta(n);
        let zeta_2 = zeta(2);
        Zipfian {
            n,
            theta,
            alpha: 1.0 / (1.0 - theta),
            zeta_n,
            eta: (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta_2 / zeta_n),
        }
    }

    /// The next item.
    pub fn next(&self, rng: &mut SplitMix64) -> u64 {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let uz = u * self.zeta_n;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        let item = (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        item.min(self.n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_follow_the_zipfian_law() {
        let z = Zipfian::new(1000, THETA);
        let mut rng = SplitMix64::new(7);
        let draws = 1_000_000;
        let mut counts = vec![0u64; 1000];
        for _ in 0..draws {
            counts[z.next(&mut rng) as usize] += 1;
        }
        // Item 0's share is 1 / zeta(n); item 1's is 2^-θ of it; the ranks fall off.
        let p0 = counts[0] as f64 / draws as f64;
        let expected = 1.0 / z.zeta_n;
        assert!((p0 / expected - 1.0).abs() < 0.05, "{p0} vs {expected}");
        let ratio = counts[1] as f64 / counts[0] as f64;
        assert!((ratio - 0.5f64.powf(THETA)).abs() < 0.05, "{ratio}");
        assert!(counts[0] > counts[10] && counts[10] > counts[500]);
        assert!(counts[999] > 0, "the tail is drawn too");
    }
}
