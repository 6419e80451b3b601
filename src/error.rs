//! The crate's error type.

use candle_core::{DType, DeviceLocation, Shape};

/// Errors returned by the losses and penalties of this crate.
///
/// Every variant carries the offending value, so the message names what was wrong and how to
/// fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A batch of logits has no elements.
    #[error("the {name} batch is empty (shape {shape:?}): pass at least one logit")]
    EmptyBatch {
        /// Name of the empty input, for example `"real logits"`.
        name: &'static str,
        /// The shape of the empty tensor.
        shape: Shape,
    },

    /// A tensor has a dtype that the losses do not support.
    #[error("unsupported dtype {dtype:?} for the {name}: expected f16, bf16, f32 or f64, so convert with `to_dtype`")]
    UnsupportedDtype {
        /// Name of the input with that dtype.
        name: &'static str,
        /// The dtype found.
        dtype: DType,
    },

    /// Two tensors that must share a dtype do not.
    #[error("dtype {found:?} of the {name} differs from dtype {expected:?} of the {reference}: convert one with `to_dtype`")]
    DtypeMismatch {
        /// Name of the input with the unexpected dtype.
        name: &'static str,
        /// The input whose dtype sets the expectation.
        reference: &'static str,
        /// The dtype of `reference`.
        expected: DType,
        /// The dtype of `name`.
        found: DType,
    },

    /// Two tensors that must live on one device do not.
    #[error("device {found:?} of the {name} differs from device {expected:?} of the {reference}: move one with `to_device`")]
    DeviceMismatch {
        /// Name of the input on the unexpected device.
        name: &'static str,
        /// The input whose device sets the expectation.
        reference: &'static str,
        /// The device of `reference`.
        expected: DeviceLocation,
        /// The device of `name`.
        found: DeviceLocation,
    },

    /// Weights or a mask do not have exactly the shape of their logits.
    #[error("shape {found:?} of the {name} differs from the logits' shape {expected:?}: weights and masks must match the logits exactly and are never broadcast")]
    ShapeMismatch {
        /// Name of the input with the wrong shape.
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
    #[error("invalid value {value} at flat index {index} of the {name}: weights must be finite and non-negative")]
    InvalidWeight {
        /// Name of the weights that contain the value.
        name: &'static str,
        /// Flat (row-major) index of the first invalid weight.
        index: usize,
        /// The invalid weight.
        value: f64,
    },

    /// A probability input lies outside [0, 1].
    #[error("value {value} at flat index {index} of the {name} is outside [0, 1]: pass logits with `Input::Logits`, clamp the probabilities or mask the element out")]
    InvalidProbability {
        /// Name of the input that contains the value.
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

    /// A loss closure returned a tensor that is not rank 0.
    #[error("the closure of {loss} returned shape {shape:?}, but a loss must be a rank-0 tensor: reduce it with `mean_all` or `sum_all`")]
    NotScalar {
        /// The loss whose closure returned the value.
        loss: &'static str,
        /// The shape returned.
        shape: Shape,
    },

    /// An operation that the loss does not provide.
    #[error("{loss} does not support {operation}")]
    Unsupported {
        /// The loss asked.
        loss: &'static str,
        /// The operation asked for.
        operation: &'static str,
    },

    /// An exact gradient penalty ran while candle detaches gradients in backward.
    #[error("exact gradient penalties need candle's double backward, which is off on this thread: set the environment variable CANDLE_GRAD_DO_NOT_DETACH=1 before the process starts (candle reads it once per thread, at that thread's first backward), or use `PenaltyMode::FiniteDifference` for a smooth discriminator")]
    DoubleBackwardDisabled,

    /// Two sample batches that a penalty pairs or perturbs differ in shape.
    #[error("shape {found:?} of the {name} differs from shape {expected:?} of the {reference}: pass tensors of one shape")]
    SampleShapeMismatch {
        /// Name of the input with the unexpected shape.
        name: &'static str,
        /// The input whose shape sets the expectation.
        reference: &'static str,
        /// The shape of `reference`.
        expected: Shape,
        /// The shape of `name`.
        found: Shape,
    },

    /// The discriminator's output does not start with the batch dimension of its input.
    #[error("the discriminator returned shape {found:?} for a batch of {batch} samples: its output must have the batch size as its first dimension")]
    DiscriminatorOutputShape {
        /// The batch size of the input samples.
        batch: usize,
        /// The shape returned.
        found: Shape,
    },

    /// A caller-supplied uniform noise value lies outside [0, 1].
    #[error("value {value} at flat index {index} of the {name} is outside [0, 1]: pass uniform noise in [0, 1]")]
    InvalidNoise {
        /// Name of the input that contains the value.
        name: &'static str,
        /// Flat (row-major) index of the first value outside [0, 1].
        index: usize,
        /// The value found.
        value: f64,
    },

    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
