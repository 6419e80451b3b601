//! The result of a gradient penalty.

use candle_core::Tensor;

/// A gradient penalty evaluated on one batch.
#[derive(Debug, Clone)]
pub struct PenaltyOutput {
    /// Rank-0 term to add to the discriminator loss before its backward. Its value equals
    /// [`value`](Self::value), and its gradient with respect to the discriminator's parameters is
    /// the penalty's: exact under [`PenaltyMode::Exact`](super::PenaltyMode::Exact), a finite
    /// difference under [`PenaltyMode::FiniteDifference`](super::PenaltyMode::FiniteDifference).
    /// No gradient flows from it into the samples or the generator. Its dtype is the
    /// discriminator output's.
    pub term: Tensor,
    /// The penalty's value, detached, for logging.
    pub value: f64,
    /// Per-sample norms ‖∇ₓD(xᵢ)‖ over all non-batch dimensions (without ε), shape `[B]`,
    /// detached. f16 and bf16 outputs give f32 norms.
    pub gradient_norms: Tensor,
}
