//! Training data: the 2-D Gaussian mixtures (ring, grid) and the 8×8 handwritten digits.

use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use clap::ValueEnum;
use flate2::read::GzDecoder;
use rand::seq::SliceRandom;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Pixels per digit image (8×8).
pub const DIGIT_PIXELS: usize = 64;

/// The largest pixel value in the digits file.
const DIGIT_MAX: f32 = 16.0;

/// The dataset to train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dataset {
    /// 8 Gaussians evenly spaced on a circle of radius 1, standard deviation 0.01.
    Ring,
    /// 25 Gaussians at {−4, −2, 0, 2, 4}², standard deviation 0.05.
    Grid,
    /// The 1,797 8×8 handwritten digits of examples/data/digits.csv.gz, scaled to [−1, 1].
    Digits,
}

impl Dataset {
    /// Returns the name used on the command line and in metrics.json.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Ring => "ring",
            Dataset::Grid => "grid",
            Dataset::Digits => "digits",
        }
    }

    /// Returns the Gaussian mixture behind a 2-D dataset, or `None` for the digits.
    pub fn mixture(self) -> Option<Mixture> {
        match self {
            Dataset::Ring => {
                let count = 8;
                let centres = (0..count)
                    .map(|k| {
                        let angle = 2.0 * std::f64::consts::PI * k as f64 / count as f64;
                        [angle.cos(), angle.sin()]
                    })
                    .collect();
                Some(Mixture { centres, std: 0.01 })
            }
            Dataset::Grid => {
                let steps = [-4.0, -2.0, 0.0, 2.0, 4.0];
                let centres = steps
                    .iter()
                    .flat_map(|&x| steps.iter().map(move |&y| [x, y]))
                    .collect();
                Some(Mixture { centres, std: 0.05 })
            }
            Dataset::Digits => None,
        }
    }

    /// Returns the number of values in one sample.
    pub fn dim(self) -> usize {
        match self {
            Dataset::Ring | Dataset::Grid => 2,
            Dataset::Digits => DIGIT_PIXELS,
        }
    }
}

/// An equal-weight mixture of isotropic 2-D Gaussians.
#[derive(Debug, Clone)]
pub struct Mixture {
    /// The mode centres.
    pub centres: Vec<[f64; 2]>,
    /// The standard deviation of every component, per coordinate.
    pub std: f64,
}

impl Mixture {
    /// Appends `count` samples, each as two values, to `out`.
    fn sample_into(&self, rng: &mut ChaCha8Rng, count: usize, out: &mut Vec<f32>) {
        for _ in 0..count {
            let centre = self.centres[rng.random_range(0..self.centres.len())];
            for coordinate in centre {
                let noise: f64 = StandardNormal.sample(rng);
                out.push((coordinate + self.std * noise) as f32);
            }
        }
    }
}

/// A fixed set of samples, served in a fresh random order every pass.
#[derive(Debug, Clone)]
pub struct Pool {
    values: Vec<f32>,
    dim: usize,
    order: Vec<usize>,
    cursor: usize,
}

impl Pool {
    fn new(values: Vec<f32>, dim: usize) -> Self {
        let order = (0..values.len() / dim).collect::<Vec<_>>();
        let cursor = order.len();
        Self {
            values,
            dim,
            order,
            cursor,
        }
    }

    /// Appends the next `count` samples to `out`, reshuffling whenever a pass ends, so a batch
    /// may straddle two passes.
    fn next_into(&mut self, rng: &mut ChaCha8Rng, count: usize, out: &mut Vec<f32>) {
        for _ in 0..count {
            if self.cursor == self.order.len() {
                self.order.shuffle(rng);
                self.cursor = 0;
            }
            let start = self.order[self.cursor] * self.dim;
            out.extend_from_slice(&self.values[start..start + self.dim]);
            self.cursor += 1;
        }
    }
}

/// The source of training batches.
#[derive(Debug, Clone)]
pub enum Sampler {
    /// Fresh samples from the mixture for every batch.
    Fresh(Mixture),
    /// A fixed training set (the digits, or the mixture samples drawn once).
    Fixed(Pool),
}

impl Sampler {
    /// Builds the sampler for a dataset: fresh mixture samples when `training_size` is `None`,
    /// otherwise `training_size` mixture samples drawn once. The digits are always the file.
    ///
    /// # Errors
    /// When the digits file cannot be read or parsed.
    pub fn new(
        dataset: Dataset,
        training_size: Option<usize>,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, Box<dyn Error>> {
        match (dataset.mixture(), training_size) {
            (Some(mixture), None) => Ok(Sampler::Fresh(mixture)),
            (Some(mixture), Some(size)) => {
                let mut values = Vec::with_capacity(size * 2);
                mixture.sample_into(rng, size, &mut values);
                Ok(Sampler::Fixed(Pool::new(values, 2)))
            }
            (None, _) => Ok(Sampler::Fixed(Pool::new(load_digits()?, DIGIT_PIXELS))),
        }
    }

    /// Returns the number of values in one sample.
    pub fn dim(&self) -> usize {
        match self {
            Sampler::Fresh(_) => 2,
            Sampler::Fixed(pool) => pool.dim,
        }
    }

    /// Draws the next batch of `count` samples as a row-major `[count, dim]` vector.
    pub fn next_batch(&mut self, rng: &mut ChaCha8Rng, count: usize) -> Vec<f32> {
        let mut out = Vec::new();
        match self {
            Sampler::Fresh(mixture) => mixture.sample_into(rng, count, &mut out),
            Sampler::Fixed(pool) => pool.next_into(rng, count, &mut out),
        }
        out
    }
}

/// Returns the path of the digits file inside this crate.
pub fn digits_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.csv.gz")
}

/// Reads the digits file and scales every pixel from 0..16 to [−1, 1].
///
/// # Errors
/// When the file is missing or unreadable, or a line does not contain 64 pixel values in 0..16
/// followed by a label.
pub fn load_digits() -> Result<Vec<f32>, Box<dyn Error>> {
    let path = digits_path();
    let file = File::open(&path)
        .map_err(|error| format!("failed to open the digits file {}: {error}", path.display()))?;
    let reader = BufReader::new(GzDecoder::new(file));

    let mut values = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let fields = line.split(',').collect::<Vec<_>>();
        if fields.len() != DIGIT_PIXELS + 1 {
            let message = format!(
                "line {} of {} has {} fields, expected {} pixels and a label",
                index + 1,
                path.display(),
                fields.len(),
                DIGIT_PIXELS
            );
            return Err(message.into());
        }
        for field in &fields[..DIGIT_PIXELS] {
            let pixel: f32 = field.trim().parse().map_err(|error| {
                format!("invalid pixel {field:?} on line {}: {error}", index + 1)
            })?;
            if !(0.0..=DIGIT_MAX).contains(&pixel) {
                let message = format!("pixel {pixel} on line {} is outside 0..16", index + 1);
                return Err(message.into());
            }
            values.push(pixel / DIGIT_MAX * 2.0 - 1.0);
        }
    }
    if values.is_empty() {
        return Err(format!("the digits file {} contains no images", path.display()).into());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn digits_load_scaled() {
        let values = load_digits().unwrap_or_else(|error| panic!("{error}"));

        assert_eq!(values.len(), 1_797 * DIGIT_PIXELS);
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert!(values.contains(&-1.0));
        assert!(values.contains(&1.0));
    }

    #[test]
    fn ring_samples_stay_near_modes() {
        let mixture = Dataset::Ring.mixture().unwrap_or_else(|| unreachable!());
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut sampler = Sampler::Fresh(mixture.clone());

        let batch = sampler.next_batch(&mut rng, 1_000);

        assert_eq!(batch.len(), 2_000);
        for pair in batch.chunks_exact(2) {
            let radius = f64::from(pair[0]).hypot(f64::from(pair[1]));
            // Six standard deviations: a miss has probability far below 1e-6 per sample.
            assert!((radius - 1.0).abs() < 6.0 * mixture.std, "radius {radius}");
        }
    }

    #[test]
    fn pool_serves_each_sample_once_per_pass() {
        let values = (0..10).map(|v| v as f32).collect::<Vec<_>>();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut sampler = Sampler::Fixed(Pool::new(values, 2));

        let mut first_pass = sampler.next_batch(&mut rng, 5);
        let second_pass = sampler.next_batch(&mut rng, 5);

        assert_eq!(sampler.dim(), 2);
        first_pass.sort_by(f32::total_cmp);
        assert_eq!(first_pass, (0..10).map(|v| v as f32).collect::<Vec<_>>());
        assert_eq!(second_pass.len(), 10);
        for pair in second_pass.chunks_exact(2) {
            assert_eq!(pair[1], pair[0] + 1.0, "rows stay whole: {pair:?}");
        }
    }
}
