//! The crate's error type.

use candle_core::{DType, DeviceLocation, Shape};

/// Errors returned by the losses and penalties of this crate.
///
/// Every variant carries the offending value, so the message says what was wrong and how to fix
/// it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A batch of logits has no elements.
    #[error("the {name} batch is empty (shape {shape:?}): pass at least one logit")]
    EmptyBatch {
        /// Which input was empty, for example `"real logits"`.
        name: &'static str,
        /// The shape of the empty tensor.
        shape: Shape,
    },

    /// A tensor has a dtype that the losses do not support.
    #[error("{name} have dtype {dtype:?}, expected one of f16, bf16, f32 or f64: convert with `to_dtype`")]
    UnsupportedDtype {
        /// Which input had the dtype.
        name: &'static str,
        /// The dtype found.
        dtype: DType,
    },

    /// Two tensors that must share a dtype do not.
    #[error("{name} have dtype {found:?} but the {reference} have dtype {expected:?}: convert one with `to_dtype`")]
    DtypeMismatch {
        /// Which input had the unexpected dtype.
        name: &'static str,
        /// The input whose dtype sets the expectation.
        reference: &'static str,
        /// The dtype of `reference`.
        expected: DType,
        /// The dtype of `name`.
        found: DType,
    },

    /// Two tensors that must live on one device do not.
    #[error("{name} are on {found:?} but the {reference} are on {expected:?}: move one with `to_device`")]
    DeviceMismatch {
        /// Which input was on the unexpected device.
        name: &'static str,
        /// The input whose device sets the expectation.
        reference: &'static str,
        /// The device of `reference`.
        expected: DeviceLocation,
        /// The device of `name`.
        found: DeviceLocation,
    },

    /// Weights or a mask do not have exactly the shape of their logits.
    #[error("{name} have shape {found:?} but their logits have shape {expected:?}: weights and masks must match the logits exactly and are never broadcast")]
    ShapeMismatch {
        /// Which input had the wrong shape.
        name: &'static str,
        /// The shape of the logits.
        expected: Shape,
        /// The shape found.
        found: Shape,
    },

    /// Two batches that are paired element by element differ in shape.
    #[error("the paired loss {loss} needs real and fake logits of one shape, got {real:?} and {fake:?}: use an unpaired loss or equal batches")]
    UnpairedBatches {
        /// The loss that pairs the batches.
        loss: &'static str,
        /// Shape of the real logits.
        real: Shape,
        /// Shape of the fake logits.
        fake: Shape,
    },

    /// A per-sample weight is negative, infinite or NaN.
    #[error(
        "{name} contain {value} at flat index {index}: weights must be finite and non-negative"
    )]
    InvalidWeight {
        /// Which weights held the value.
        name: &'static str,
        /// Flat (row-major) index of the first invalid weight.
        index: usize,
        /// The invalid weight.
        value: f64,
    },

    /// A probability input lies outside [0, 1].
    #[error("{name} contain {value} at flat index {index}, outside [0, 1]: pass logits with `Input::Logits` or clamp the probabilities")]
    InvalidProbability {
        /// Which input held the value.
        name: &'static str,
        /// Flat (row-major) index of the first value outside [0, 1].
        index: usize,
        /// The value found.
        value: f64,
    },

    /// A loss or penalty option is out of its range.
    #[error("invalid option {option} = {value}: {expected}")]
    InvalidOption {
        /// The option's name, as its setter spells it.
        option: &'static str,
        /// The rejected value.
        value: f64,
        /// The accepted range.
        expected: &'static str,
    },

    /// A loss name that [`std::str::FromStr`] does not know.
    #[error("unknown loss name {name:?}: expected one of {known}")]
    UnknownLoss {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },

    /// A generator loss that needs the real logits was called without them.
    #[error("the generator loss {loss} needs the real logits: pass them with `generator_loss_with(Some(real), fake)`")]
    MissingRealLogits {
        /// The loss that needs the real logits.
        loss: &'static str,
    },

    /// An operation that the loss does not provide.
    #[error("{loss} does not support {operation}")]
    Unsupported {
        /// The loss asked.
        loss: &'static str,
        /// The operation asked for.
        operation: &'static str,
    },

    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
