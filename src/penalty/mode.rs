//! Penalty modes and the check that candle keeps the graph for double backward.

use std::cell::Cell;

use candle_core::{Device, Var};

use crate::error::{Error, Result};

/// Method by which a gradient penalty obtains the gradient of ‖∇ₓD‖² with respect to the
/// parameters.
///
/// The penalty's value always comes from one exact first-order backward. The modes differ in the
/// term handed back for the parameter update.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum PenaltyMode {
    /// Double backward through candle's autograd: the term is ‖∇ₓD‖² built as a graph, so its
    /// gradient is exact. Needs `CANDLE_GRAD_DO_NOT_DETACH=1` in the environment before the
    /// process starts; without it the penalty returns
    /// [`Error::DoubleBackwardDisabled`](crate::Error::DoubleBackwardDisabled).
    #[default]
    Exact,
    /// A central difference of D along the unit input gradient of each sample, with the given
    /// step in input units: the term's parameter gradient is
    /// Σᵢ cᵢ‖gᵢ‖/h · ∇θ[D(xᵢ + h·uᵢ) − D(xᵢ − h·uᵢ)], uᵢ = gᵢ/‖gᵢ‖, which approximates the
    /// Hessian-vector product that the exact mode computes. It needs only first-order gradients.
    ///
    /// Accurate only for smooth discriminators (tanh, sigmoid, softplus, SiLU, GELU, ELU): the
    /// error of a central difference is of order h² times the third derivative of D. A step
    /// that crosses a ReLU or leaky-ReLU kink measures the jump in the input gradient instead,
    /// and for a leaky-ReLU MLP the gradient was off by more than 10 % in the tests. The step
    /// must be positive and finite; 1e-2 suits inputs of unit scale in f32.
    FiniteDifference {
        /// Step h along the unit direction, in input units.
        step: f64,
    },
}

impl PenaltyMode {
    /// Checks the step of [`FiniteDifference`](Self::FiniteDifference).
    pub(crate) fn check(&self) -> Result<()> {
        match *self {
            Self::Exact => Ok(()),
            Self::FiniteDifference { step } if step.is_finite() && step > 0.0 => Ok(()),
            Self::FiniteDifference { step } => Err(Error::InvalidOption {
                option: "step",
                value: step,
                expected: "a positive, finite finite-difference step such as 1e-2",
            }),
        }
    }
}

thread_local! {
    static DOUBLE_BACKWARD: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Returns whether candle keeps the backward graph of gradients on the calling thread.
///
/// candle 0.11 reads `CANDLE_GRAD_DO_NOT_DETACH` into a thread-local at the thread's first
/// backward and detaches every intermediate gradient unless it was set to a value other than
/// empty or `0`. Reading the variable here could disagree with what candle cached, so this runs
/// a probe instead: y = (x²)² at x = 1, whose second derivative is 12 with the graph kept and 4
/// when the gradient 2x² flowing into x² is detached. The result is cached per thread, as
/// candle's own flag is.
///
/// # Errors
/// A candle error from the probe's backward, which runs on the CPU.
pub fn double_backward_enabled() -> Result<bool> {
    if let Some(enabled) = DOUBLE_BACKWARD.with(Cell::get) {
        return Ok(enabled);
    }

    let x = Var::new(1.0f64, &Device::Cpu)?;
    let y = x.as_tensor().sqr()?.sqr()?;
    let first = y.backward()?;
    let second = match first.get(x.as_tensor()) {
        Some(gradient) => match gradient.backward()?.get(x.as_tensor()) {
            Some(curvature) => curvature.to_scalar::<f64>()?,
            None => 0.0,
        },
        None => 0.0,
    };
    let enabled = (second - 12.0).abs() < 1e-9;

    DOUBLE_BACKWARD.with(|cell| cell.set(Some(enabled)));
    Ok(enabled)
}

/// Returns [`Error::DoubleBackwardDisabled`] unless [`double_backward_enabled`] holds.
pub(crate) fn ensure_double_backward() -> Result<()> {
    if double_backward_enabled()? {
        Ok(())
    } else {
        Err(Error::DoubleBackwardDisabled)
    }
}
