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
    /// nats; `None` when no sample is high quality, since p is then undefined.
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
