//! Shared test support: tolerances, f64 reference implementations, tensor helpers, a finite
//! difference and a macro that runs one test body on every device of the build.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use gan_losses::Reduction;

/// The result type of every test body.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The dtypes every numeric test loops over.
pub const DTYPES: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];

/// Generates one `#[test]` per device for each listed body `fn(&Device) -> TestResult`: the CPU
/// always, CUDA device 0 under the `cuda` feature and Metal device 0 under the `metal` feature.
/// The tests are named `BODY::cpu`, `BODY::cuda` and `BODY::metal`.
#[macro_export]
macro_rules! device_tests {
    ($($body:ident),* $(,)?) => {
        $(
            mod $body {
                #[test]
                fn cpu() -> $crate::common::TestResult {
                    super::$body(&candle_core::Device::Cpu)
                }

                #[cfg(feature = "cuda")]
                #[test]
                fn cuda() -> $crate::common::TestResult {
                    super::$body(&candle_core::Device::new_cuda(0)?)
                }

                #[cfg(feature = "metal")]
                #[test]
                fn metal() -> $crate::common::TestResult {
                    super::$body(&candle_core::Device::new_metal(0)?)
                }
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------------------------

/// A relative and an absolute tolerance: `actual` matches `expected` when
/// `|actual − expected| <= absolute` or `<= relative · max(|actual|, |expected|)` (the test of
/// `approx::relative_eq`). Equal infinities match, and NaN matches only NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative part.
    pub relative: f64,
    /// Absolute part.
    pub absolute: f64,
}

impl Tolerance {
    /// Returns the tolerance for a loss computed in `dtype` and compared with an f64 reference that was
    /// evaluated on the same (already rounded) inputs. The half types are computed in f32 and
    /// rounded once to their own precision (unit roundoff 2⁻¹¹ for f16, 2⁻⁸ for bf16).
    pub fn for_dtype(dtype: DType) -> Self {
        match dtype {
            DType::F64 => Self::new(1e-10, 1e-12),
            DType::F32 => Self::new(2e-5, 1e-6),
            DType::F16 => Self::new(2e-3, 1e-3),
            DType::BF16 => Self::new(1.6e-2, 8e-3),
            other => panic!("no tolerance for {other:?}"),
        }
    }

    /// Builds a tolerance from its relative and absolute parts.
    pub const fn new(relative: f64, absolute: f64) -> Self {
        Self { relative, absolute }
    }

    /// True when `actual` matches `expected`.
    pub fn accepts(&self, actual: f64, expected: f64) -> bool {
        if actual.is_nan() || expected.is_nan() {
            return actual.is_nan() && expected.is_nan();
        }
        approx::relative_eq!(
            actual,
            expected,
            epsilon = self.absolute,
            max_relative = self.relative
        )
    }

    /// Measures how far outside the tolerance a pair lies: 0 inside, the gap over the allowed
    /// gap outside, and infinity for a mismatched NaN or infinity.
    fn excess(&self, actual: f64, expected: f64) -> f64 {
        if self.accepts(actual, expected) {
            return 0.0;
        }
        let gap = (actual - expected).abs();
        if !gap.is_finite() {
            return f64::INFINITY;
        }
        let allowed = self
            .absolute
            .max(self.relative * actual.abs().max(expected.abs()));
        gap / allowed
    }
}

/// Asserts that `actual` matches `expected` elementwise. The failure message names the number
/// of mismatches, the worst index, both values there, the gap and the tolerance.
pub fn assert_close(actual: &[f64], expected: &[f64], tolerance: Tolerance, what: &str) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: {} values, expected {}",
        actual.len(),
        expected.len()
    );
    let mut mismatches = 0;
    let mut worst: Option<(usize, f64)> = None;
    for (index, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let excess = tolerance.excess(a, e);
        if excess == 0.0 {
            continue;
        }
        mismatches += 1;
        if worst.is_none_or(|(_, w)| excess > w) {
            worst = Some((index, excess));
        }
    }
    if let Some((index, _)) = worst {
        let (a, e) = (actual[index], expected[index]);
        panic!(
            "{what}: {mismatches} of {} values outside the tolerance (relative {:e}, absolute \
             {:e}); worst at index {index}: actual {a:e}, expected {e:e}, gap {:e}",
            actual.len(),
            tolerance.relative,
            tolerance.absolute,
            (a - e).abs()
        );
    }
}

/// Asserts that one value matches its expectation.
pub fn assert_close_scalar(actual: f64, expected: f64, tolerance: Tolerance, what: &str) {
    assert_close(&[actual], &[expected], tolerance, what);
}

// ---------------------------------------------------------------------------------------------
// f64 reference implementations
// ---------------------------------------------------------------------------------------------

/// Computes softplus(x) = ln(1 + eˣ) as max(x, 0) + ln_1p(e^(−|x|)) so that it never
/// overflows. NaN gives NaN.
pub fn softplus(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// Computes the logistic sigmoid 1 / (1 + e^(−x)) without overflow on either side.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Computes the binary cross-entropy of logit `x` against target `y`: y·softplus(−x) + (1 − y)·softplus(x),
/// where a target of exactly 0 or 1 drops the term whose factor is 0.
pub fn bce(x: f64, y: f64) -> f64 {
    if y == 1.0 {
        softplus(-x)
    } else if y == 0.0 {
        softplus(x)
    } else {
        y * softplus(-x) + (1.0 - y) * softplus(x)
    }
}

/// Computes d bce(x, y) / dx = σ(x) − y.
pub fn bce_derivative(x: f64, y: f64) -> f64 {
    sigmoid(x) - y
}

/// Computes the binary cross-entropy of probability `p` against target `y`, with both logs clamped below at
/// −100 as in PyTorch's `BCELoss`.
pub fn bce_probability(p: f64, y: f64) -> f64 {
    let log_p = p.ln().max(-100.0);
    let log_q = (1.0 - p).ln().max(-100.0);
    -y * log_p - (1.0 - y) * log_q
}

/// Computes the derivative that the probability form uses: (p − y) / max(p·(1 − p), 1e-12).
pub fn bce_probability_derivative(p: f64, y: f64) -> f64 {
    (p - y) / (p * (1.0 - p)).max(1e-12)
}

/// Computes the hinge term relu(m − s·x), which is NaN for NaN input.
pub fn hinge(x: f64, margin: f64, sign: f64) -> f64 {
    let z = margin - sign * x;
    if z <= 0.0 {
        0.0
    } else {
        z
    }
}

/// Computes the derivative of [`hinge`]: −s where m − s·x > 0, else 0 (also at the kink).
pub fn hinge_derivative(x: f64, margin: f64, sign: f64) -> f64 {
    if margin - sign * x > 0.0 {
        -sign
    } else {
        0.0
    }
}

/// One batch of the reference: values with optional per-sample weights and mask.
#[derive(Debug, Clone, Default)]
pub struct RefBatch {
    /// Logits, probabilities or critic outputs.
    pub x: Vec<f64>,
    /// Per-sample weights of the length of `x`.
    pub weights: Option<Vec<f64>>,
    /// Mask of the length of `x`, where zero excludes an element.
    pub mask: Option<Vec<f64>>,
}

impl RefBatch {
    /// Builds a batch without weights or mask.
    pub fn plain(x: Vec<f64>) -> Self {
        Self {
            x,
            ..Self::default()
        }
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }

    fn included(&self, i: usize) -> bool {
        self.mask.as_ref().is_none_or(|m| m[i] != 0.0)
    }

    /// Returns the divisor of a reduction: 1 for a sum, and for a mean the count of included
    /// elements, at least 1.
    pub fn divisor(&self, reduction: Reduction) -> f64 {
        match reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => {
                let count = (0..self.x.len()).filter(|&i| self.included(i)).count();
                count.max(1) as f64
            }
        }
    }

    /// Weighted element terms w_i·ℓ(x_i), with 0 for excluded elements.
    pub fn terms(&self, term: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..self.x.len())
            .map(|i| {
                if self.included(i) {
                    self.weight(i) * term(self.x[i])
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Reduces the group to Σ w·ℓ over included elements, divided by their count for a mean.
    pub fn reduce(&self, term: impl Fn(f64) -> f64, reduction: Reduction) -> f64 {
        self.terms(term).iter().sum::<f64>() / self.divisor(reduction)
    }

    /// Computes the gradient of `scale · reduce(term)` from the term's derivative.
    pub fn gradient(
        &self,
        derivative: impl Fn(f64) -> f64,
        scale: f64,
        reduction: Reduction,
    ) -> Vec<f64> {
        let divisor = self.divisor(reduction);
        (0..self.x.len())
            .map(|i| {
                if self.included(i) {
                    scale * self.weight(i) * derivative(self.x[i]) / divisor
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Computes the mean of a slice.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Computes the central finite differences (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h of an f64 function.
pub fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], step: f64) -> Vec<f64> {
    let mut point = x.to_vec();
    (0..x.len())
        .map(|i| {
            let original = point[i];
            point[i] = original + step;
            let above = f(&point);
            point[i] = original - step;
            let below = f(&point);
            point[i] = original;
            (above - below) / (2.0 * step)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tensors and test data
// ---------------------------------------------------------------------------------------------

/// Builds a tensor of `dtype` on `device` that contains `values` (rounded to the dtype) in `shape`.
pub fn tensor(
    values: &[f64],
    shape: &[usize],
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Tensor> {
    Tensor::from_vec(values.to_vec(), shape, device)?.to_dtype(dtype)
}

/// Returns the elements of a tensor in row-major order, as f64.
pub fn values(tensor: &Tensor) -> candle_core::Result<Vec<f64>> {
    tensor.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
}

/// Returns the value of a rank-0 tensor as f64.
pub fn scalar(tensor: &Tensor) -> candle_core::Result<f64> {
    tensor.to_dtype(DType::F64)?.to_scalar::<f64>()
}

/// Builds `count` deterministic logits: the saturating values −300, −100, 100, 300 followed by
/// moderate values spread over about (−4, 4), varied by `seed`.
pub fn logits(count: usize, seed: u64) -> Vec<f64> {
    let saturating = [-300.0, -100.0, 100.0, 300.0];
    (0..count)
        .map(|i| {
            if i < saturating.len() {
                saturating[(i + seed as usize) % saturating.len()]
            } else {
                3.7 * (1.3 * i as f64 + 0.7 * seed as f64).sin()
            }
        })
        .collect()
}

/// Builds `count` deterministic probabilities: 0 and 1 followed by interior values spread over (0, 1).
pub fn probabilities(count: usize, seed: u64) -> Vec<f64> {
    (0..count)
        .map(|i| match i {
            0 => 0.0,
            1 => 1.0,
            _ => sigmoid(2.5 * (1.7 * i as f64 + 0.3 * seed as f64).sin()),
        })
        .collect()
}

/// Builds `count` deterministic per-sample weights in [0, 3], including an exact 0.
pub fn sample_weights(count: usize, seed: u64) -> Vec<f64> {
    (0..count)
        .map(|i| {
            if i == 1 {
                0.0
            } else {
                1.5 + 1.5 * (0.9 * i as f64 + seed as f64).cos()
            }
        })
        .collect()
}

/// Builds a deterministic mask of 1s and 0s with at least one of each for `count >= 3`.
pub fn sample_mask(count: usize, seed: u64) -> Vec<f64> {
    (0..count)
        .map(|i| if (i as u64 + seed) % 3 == 1 { 0.0 } else { 1.0 })
        .collect()
}

/// Returns three shapes of `count` elements: `[B]`, `[B, 1]` and `[B/4, 1, 2, 2]` (`count` must be a
/// multiple of 4).
pub fn shapes(count: usize) -> [Vec<usize>; 3] {
    [vec![count], vec![count, 1], vec![count / 4, 1, 2, 2]]
}

/// A batch as tensors of one dtype, with the reference batch read back from those tensors, so
/// that the reference uses the inputs after rounding to the dtype. The logits are a `Var`, so
/// gradients can be taken with respect to them.
pub struct TensorBatch {
    /// The logits, tracked for gradients.
    pub logits: candle_core::Var,
    /// Per-sample weights, in the logits' dtype.
    pub weights: Option<Tensor>,
    /// Mask, in the logits' dtype.
    pub mask: Option<Tensor>,
    /// The reference batch holding the rounded values.
    pub reference: RefBatch,
}

impl TensorBatch {
    /// Builds the tensors of `batch` in `shape`, `dtype` and on `device`.
    pub fn new(
        batch: &RefBatch,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let logits = candle_core::Var::from_tensor(&tensor(&batch.x, shape, dtype, device)?)?;
        let weights = match &batch.weights {
            Some(w) => Some(tensor(w, shape, dtype, device)?),
            None => None,
        };
        let mask = match &batch.mask {
            Some(m) => Some(tensor(m, shape, dtype, device)?),
            None => None,
        };
        let reference = RefBatch {
            x: values(logits.as_tensor())?,
            weights: weights.as_ref().map(values).transpose()?,
            mask: mask.as_ref().map(values).transpose()?,
        };
        Ok(Self {
            logits,
            weights,
            mask,
            reference,
        })
    }

    /// Returns the batch to pass to a loss.
    pub fn batch(&self) -> gan_losses::Batch<'_> {
        let mut batch = gan_losses::Batch::new(self.logits.as_tensor());
        if let Some(weights) = &self.weights {
            batch = batch.with_weights(weights);
        }
        if let Some(mask) = &self.mask {
            batch = batch.with_mask(mask);
        }
        batch
    }

    /// Returns the gradient with respect to the logits in `grads`, as f64, or an error when no
    /// gradient reached them.
    pub fn gradient(
        &self,
        grads: &candle_core::backprop::GradStore,
    ) -> candle_core::Result<Vec<f64>> {
        match grads.get(self.logits.as_tensor()) {
            Some(gradient) => values(gradient),
            None => Err(candle_core::Error::Msg(
                "no gradient reached the logits".to_string(),
            )),
        }
    }
}
