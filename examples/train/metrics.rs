//! Mode-coverage metrics of PacGAN (Lin et al., NeurIPS 2018) for the 2-D mixtures.

use crate::data::Mixture;

/// How many standard deviations from a centre a sample may lie and still count for its mode.
pub const THRESHOLD_STDS: f64 = 3.0;

/// Mode coverage of a set of generated 2-D samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeMetrics {
    /// Modes with at least one sample within the threshold of their centre.
    pub modes_captured: usize,
    /// Fraction of all samples within the threshold of their nearest centre.
    pub high_quality_fraction: f64,
    /// KL(p ‖ u) from the mode histogram p of the high-quality samples to the uniform u, in
    /// nats. It is `None` when no sample is high quality, because p is then undefined.
    pub reverse_kl: Option<f64>,
    /// The high-quality samples assigned to each mode.
    pub counts: Vec<usize>,
}

/// Scores `samples` (row-major pairs) against the mixture's modes.
///
/// Each sample is assigned to its nearest centre and is high quality when it lies within
/// `THRESHOLD_STDS · std` of it. The reverse KL is Σ_k p_k ln(p_k · K) over the modes with
/// p_k > 0, where p_k is the share of high-quality samples at mode k and K the mode count: an
/// empty mode contributes 0 (the limit of p ln p), so missing modes raise the divergence only
/// through the excess mass on the others, and one captured mode gives ln K.
pub fn mode_metrics(samples: &[f32], mixture: &Mixture) -> ModeMetrics {
    let threshold = THRESHOLD_STDS * mixture.std;
    let mut counts = vec![0usize; mixture.centres.len()];
    let mut total = 0usize;

    for pair in samples.chunks_exact(2) {
        total += 1;
        let (x, y) = (f64::from(pair[0]), f64::from(pair[1]));
        let nearest = mixture
            .centres
            .iter()
            .map(|c| (c[0] - x).hypot(c[1] - y))
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((mode, distance)) = nearest {
            if distance <= threshold {
                counts[mode] += 1;
            }
        }
    }

    let high_quality = counts.iter().sum::<usize>();
    let modes = counts.len() as f64;
    let reverse_kl = (high_quality > 0).then(|| {
        counts
            .iter()
            .filter(|&&count| count > 0)
            .map(|&count| {
                let p = count as f64 / high_quality as f64;
                p * (p * modes).ln()
            })
            .sum()
    });

    ModeMetrics {
        modes_captured: counts.iter().filter(|&&count| count > 0).count(),
        high_quality_fraction: high_quality as f64 / total.max(1) as f64,
        reverse_kl,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    fn ring() -> Mixture {
        Dataset::Ring.mixture().unwrap_or_else(|| unreachable!())
    }

    /// Returns the sample at `centre` shifted by (dx, dy).
    fn near(centre: [f64; 2], dx: f64, dy: f64) -> [f32; 2] {
        [(centre[0] + dx) as f32, (centre[1] + dy) as f32]
    }

    #[test]
    fn metrics_count_modes_and_quality() {
        let mixture = ring();
        let c = &mixture.centres;
        // Three samples at mode 0, one at mode 2 just inside 3 std, one at mode 5 just outside,
        // and one far from every mode.
        let samples = [
            near(c[0], 0.0, 0.0),
            near(c[0], 0.01, 0.0),
            near(c[0], 0.0, -0.02),
            near(c[2], 0.029, 0.0),
            near(c[5], 0.0, 0.031),
            [0.0, 0.0],
        ]
        .concat();

        let scores = mode_metrics(&samples, &mixture);

        let expected_kl = 0.75 * (0.75f64 * 8.0).ln() + 0.25 * (0.25f64 * 8.0).ln();
        assert_eq!(scores.counts, vec![3, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(scores.modes_captured, 2);
        assert!((scores.high_quality_fraction - 4.0 / 6.0).abs() < 1e-12);
        let kl = scores.reverse_kl.unwrap_or(f64::NAN);
        assert!(
            (kl - expected_kl).abs() < 1e-12,
            "kl {kl}, expected {expected_kl}"
        );
    }

    #[test]
    fn metrics_uniform_histogram_has_zero_kl() {
        let mixture = ring();
        let samples = mixture
            .centres
            .iter()
            .flat_map(|&c| near(c, 0.0, 0.0))
            .collect::<Vec<_>>();

        let scores = mode_metrics(&samples, &mixture);

        assert_eq!(scores.modes_captured, 8);
        assert_eq!(scores.high_quality_fraction, 1.0);
        let kl = scores.reverse_kl.unwrap_or(f64::NAN);
        assert!(kl.abs() < 1e-12, "kl {kl}");
    }

    #[test]
    fn metrics_one_mode_gives_ln_k() {
        let mixture = Dataset::Grid.mixture().unwrap_or_else(|| unreachable!());
        let samples = near(mixture.centres[7], 0.1, -0.1).repeat(5);

        let scores = mode_metrics(&samples, &mixture);

        assert_eq!(scores.modes_captured, 1);
        let kl = scores.reverse_kl.unwrap_or(f64::NAN);
        assert!((kl - 25f64.ln()).abs() < 1e-12, "kl {kl}");
    }

    #[test]
    fn metrics_without_high_quality_samples() {
        let samples = [0.0f32, 0.0, f32::NAN, 1.0];

        let scores = mode_metrics(&samples, &ring());

        assert_eq!(scores.modes_captured, 0);
        assert_eq!(scores.high_quality_fraction, 0.0);
        assert_eq!(scores.reverse_kl, None);
    }
}
