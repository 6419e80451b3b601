//! One batch of discriminator outputs with its optional weights and mask, and the checks on it.

use candle_core::{CpuStorage, DType, Storage, Tensor};

use crate::error::{Error, Result};

/// Discriminator outputs for one batch (real or fake), with optional per-sample weights and a
/// mask.
///
/// Weights and the mask must have exactly the shape of the logits: they are never broadcast, so
/// logits of shape `[B, 1]` with weights of shape `[B]` are an error rather than a `[B, B]`
/// product. Weights are constants: no gradient flows into them. An element of weight 0
/// contributes 0 with a zero gradient, even where its logit is infinite or NaN.
///
/// A mask element that is zero excludes its logit from the loss: its term, even an infinite or
/// NaN one, is dropped, and under [`Reduction::Mean`](crate::Reduction::Mean) the divisor is the
/// count of included elements. Any non-zero mask value, NaN included, includes its element.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::Batch;
///
/// let logits = Tensor::new(&[[0.5f32], [-1.0]], &Device::Cpu)?;
/// let weights = Tensor::new(&[[2.0f32], [1.0]], &Device::Cpu)?;
/// let batch = Batch::new(&logits).with_weights(&weights);
/// assert!(batch.weights().is_some());
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    logits: &'a Tensor,
    weights: Option<&'a Tensor>,
    mask: Option<&'a Tensor>,
}

impl<'a> Batch<'a> {
    /// Wraps discriminator outputs with no weights and no mask.
    pub fn new(logits: &'a Tensor) -> Self {
        Self {
            logits,
            weights: None,
            mask: None,
        }
    }

    /// Sets per-sample weights of exactly the shape of the logits.
    pub fn with_weights(mut self, weights: &'a Tensor) -> Self {
        self.weights = Some(weights);
        self
    }

    /// Sets a mask of exactly the shape of the logits; zero excludes an element.
    pub fn with_mask(mut self, mask: &'a Tensor) -> Self {
        self.mask = Some(mask);
        self
    }

    /// The discriminator outputs.
    pub fn logits(&self) -> &'a Tensor {
        self.logits
    }

    /// The per-sample weights, if any.
    pub fn weights(&self) -> Option<&'a Tensor> {
        self.weights
    }

    /// The mask, if any.
    pub fn mask(&self) -> Option<&'a Tensor> {
        self.mask
    }
}

/// Names used in error messages for the two batches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Names {
    pub logits: &'static str,
    pub probabilities: &'static str,
    pub weights: &'static str,
    pub mask: &'static str,
}

pub(crate) const REAL: Names = Names {
    logits: "real logits",
    probabilities: "real probabilities",
    weights: "real weights",
    mask: "real mask",
};

pub(crate) const FAKE: Names = Names {
    logits: "fake logits",
    probabilities: "fake probabilities",
    weights: "fake weights",
    mask: "fake mask",
};

/// The dtype in which a loss is computed: f32 for the half types, else the input dtype.
pub(crate) fn compute_dtype(dtype: DType) -> DType {
    match dtype {
        DType::F16 | DType::BF16 => DType::F32,
        other => other,
    }
}

fn check_float(name: &'static str, tensor: &Tensor) -> Result<()> {
    match tensor.dtype() {
        DType::F16 | DType::BF16 | DType::F32 | DType::F64 => Ok(()),
        dtype => Err(Error::UnsupportedDtype { name, dtype }),
    }
}

fn check_same_device(
    name: &'static str,
    tensor: &Tensor,
    reference: &'static str,
    other: &Tensor,
) -> Result<()> {
    let expected = other.device().location();
    let found = tensor.device().location();
    if expected == found {
        Ok(())
    } else {
        Err(Error::DeviceMismatch {
            name,
            reference,
            expected,
            found,
        })
    }
}

fn check_same_shape(name: &'static str, tensor: &Tensor, logits: &Tensor) -> Result<()> {
    if tensor.shape() == logits.shape() {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            name,
            expected: logits.shape().clone(),
            found: tensor.shape().clone(),
        })
    }
}

/// Checks one batch on its own: non-empty float logits, and weights and mask of their shape,
/// device, and (for weights) valid values.
pub(crate) fn check_batch(batch: &Batch<'_>, names: Names) -> Result<()> {
    let logits = batch.logits;
    check_float(names.logits, logits)?;
    if logits.elem_count() == 0 {
        return Err(Error::EmptyBatch {
            name: names.logits,
            shape: logits.shape().clone(),
        });
    }

    if let Some(weights) = batch.weights {
        check_float(names.weights, weights)?;
        check_same_shape(names.weights, weights, logits)?;
        check_same_device(names.weights, weights, names.logits, logits)?;
        check_weight_values(names.weights, weights)?;
    }

    if let Some(mask) = batch.mask {
        check_same_shape(names.mask, mask, logits)?;
        check_same_device(names.mask, mask, names.logits, logits)?;
    }
    Ok(())
}

/// Checks the real and the fake batch, and that they share a device and a dtype.
pub(crate) fn check_pair(real: &Batch<'_>, fake: &Batch<'_>) -> Result<()> {
    check_batch(real, REAL)?;
    check_batch(fake, FAKE)?;
    check_same_device(FAKE.logits, fake.logits, REAL.logits, real.logits)?;

    let expected = real.logits.dtype();
    let found = fake.logits.dtype();
    if expected != found {
        return Err(Error::DtypeMismatch {
            name: FAKE.logits,
            reference: REAL.logits,
            expected,
            found,
        });
    }
    Ok(())
}

/// Rejects negative, infinite and NaN weights, naming the first one.
fn check_weight_values(name: &'static str, weights: &Tensor) -> Result<()> {
    let invalid = match scan_cpu(weights) {
        Some(found) => found,
        None => scan_reduced(weights)?,
    };
    match invalid {
        Some((index, value)) => Err(Error::InvalidWeight { name, index, value }),
        None => Ok(()),
    }
}

/// The flat index and value of the first invalid weight, if any.
type Invalid = Option<(usize, f64)>;

/// Finds the first negative, infinite or NaN weight in one pass over contiguous CPU storage of
/// a float dtype. Returns `None` for other devices and layouts, which the caller then checks
/// with tensor ops.
fn scan_cpu(tensor: &Tensor) -> Option<Invalid> {
    let (storage, layout) = tensor.storage_and_layout();
    let (start, end) = layout.contiguous_offsets()?;
    let found = match &*storage {
        Storage::Cpu(CpuStorage::F32(values)) => first_invalid(&values[start..end], f64::from),
        Storage::Cpu(CpuStorage::F64(values)) => first_invalid(&values[start..end], |v| v),
        Storage::Cpu(CpuStorage::F16(values)) => first_invalid(&values[start..end], f64::from),
        Storage::Cpu(CpuStorage::BF16(values)) => first_invalid(&values[start..end], f64::from),
        _ => return None,
    };
    Some(found)
}

/// Finds the first weight that is negative, infinite or NaN. The common all-valid case runs as
/// a branch-free fold that the compiler vectorises; only a failing slice is searched again.
fn first_invalid<T: Copy>(values: &[T], to_f64: impl Fn(T) -> f64) -> Invalid {
    // NaN fails both comparisons, −∞ the first and +∞ the second.
    let valid = |w: f64| (0.0..f64::INFINITY).contains(&w);
    let all_valid = values
        .iter()
        .fold(true, |all, &value| all & valid(to_f64(value)));
    if all_valid {
        return None;
    }
    values
        .iter()
        .map(|&value| to_f64(value))
        .enumerate()
        .find(|&(_, value)| !valid(value))
}

/// Finds the first negative, infinite or NaN weight with tensor ops, for any device: two
/// reductions decide the common case (the f64 sum of |w| is finite when every weight is finite,
/// and the minimum is non-negative when none is negative), and only on failure are the values
/// copied to the host.
fn scan_reduced(weights: &Tensor) -> Result<Invalid> {
    let as_f64 = weights.to_dtype(DType::F64)?.flatten_all()?;
    let total = as_f64.abs()?.sum_all()?.to_scalar::<f64>()?;
    let min = as_f64.min(0)?.to_scalar::<f64>()?;
    if total.is_finite() && min >= 0.0 {
        return Ok(None);
    }

    let values = as_f64.to_vec1::<f64>()?;
    Ok(values
        .iter()
        .position(|w| !(w.is_finite() && *w >= 0.0))
        .map(|index| (index, values[index])))
}

/// Rejects probabilities outside [0, 1], except where the mask excludes them. NaN passes through
/// so that it propagates.
pub(crate) fn check_probabilities(
    name: &'static str,
    probabilities: &Tensor,
    mask: Option<&Tensor>,
) -> Result<()> {
    let flat = probabilities.to_dtype(DType::F64)?.flatten_all()?;
    let mut outside = flat.lt(0.0)?.add(&flat.gt(1.0)?)?;
    if let Some(mask) = mask {
        outside = outside.mul(&mask.flatten_all()?.ne(0.0)?)?;
    }
    let count = outside
        .to_dtype(DType::F64)?
        .sum_all()?
        .to_scalar::<f64>()?;
    if count == 0.0 {
        return Ok(());
    }

    let values = flat.to_vec1::<f64>()?;
    let flags = outside.to_vec1::<u8>()?;
    match flags.iter().position(|flag| *flag != 0) {
        Some(index) => Err(Error::InvalidProbability {
            name,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}
