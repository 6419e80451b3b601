//! The DRAGAN penalty at perturbed real samples.

use candle_core::{DType, Tensor};

use super::gradient::{check_samples, evaluate};
use super::mode::PenaltyMode;
use super::noise::UniformNoise;
use super::output::PenaltyOutput;
use super::target_norm::{Side, TargetNorm};
use crate::error::{Error, Result};

/// Options of [`DraganPenalty`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct DraganConfig {
    /// Weight λ. Default 10.
    pub lambda: f64,
    /// Target norm t. Default 1.
    pub target: f64,
    /// Two-sided (default) or one-sided.
    pub side: Side,
    /// ε in √(‖g‖² + ε), which keeps the gradient finite at g = 0. Default 1e-12; must be positive.
    pub epsilon: f64,
    /// Factor c of the perturbation δ = c·std(x)·u. Default 0.5.
    pub perturbation_scale: f64,
    /// Exact double backward (default) or a finite difference.
    pub mode: PenaltyMode,
}

impl Default for DraganConfig {
    fn default() -> Self {
        Self {
            lambda: 10.0,
            target: 1.0,
            side: Side::TwoSided,
            epsilon: 1e-12,
            perturbation_scale: 0.5,
            mode: PenaltyMode::Exact,
        }
    }
}

impl DraganConfig {
    /// Sets λ.
    pub fn with_lambda(mut self, lambda: f64) -> Self {
        self.lambda = lambda;
        self
    }

    /// Sets the target norm.
    pub fn with_target(mut self, target: f64) -> Self {
        self.target = target;
        self
    }

    /// Sets the side.
    pub fn with_side(mut self, side: Side) -> Self {
        self.side = side;
        self
    }

    /// Sets ε.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets the factor c of the perturbation.
    pub fn with_perturbation_scale(mut self, scale: f64) -> Self {
        self.perturbation_scale = scale;
        self
    }

    /// Sets the mode.
    pub fn with_mode(mut self, mode: PenaltyMode) -> Self {
        self.mode = mode;
        self
    }

    /// Checks the options and builds the penalty.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a negative or non-finite λ, target, ε or perturbation scale,
    /// or a finite-difference step that is not positive and finite.
    pub fn build(self) -> Result<DraganPenalty> {
        self.norm().check()?;
        if !(self.perturbation_scale.is_finite() && self.perturbation_scale >= 0.0) {
            return Err(Error::InvalidOption {
                option: "perturbation_scale",
                value: self.perturbation_scale,
                expected: "a finite, non-negative factor such as 0.5",
            });
        }
        self.mode.check()?;
        Ok(DraganPenalty { config: self })
    }

    fn norm(&self) -> TargetNorm {
        TargetNorm {
            lambda: self.lambda,
            target: self.target,
            side: self.side,
            epsilon: self.epsilon,
        }
    }
}

/// The penalty of Kodali et al., "On Convergence and Stability of GANs" (DRAGAN, 2017): the
/// WGAN-GP penalty taken at real samples with noise added.
///
/// ```text
/// x̃ = x + c · std(x) · u,   u ~ U[0, 1) elementwise, std over the whole batch (population)
/// DRAGAN = λ · meanᵢ (√(‖∇ₓD(x̃ᵢ)‖² + ε) − t)²     (one-sided: max(0, ·)²)
/// ```
///
/// The gradient and the finite-difference mode are those of
/// [`WganGpPenalty`](super::WganGpPenalty). c = 0.5 with u ~ U[0, 1) is the usual DRAGAN
/// perturbation, `x + 0.5 * x.std() * np.random.random(x.shape)` in numpy code. The noise is
/// non-negative, so it shifts the samples by c·std(x)/2 on average.
/// NOTE: some DRAGAN implementations also interpolate between x and x̃ with a per-sample α;
/// this one penalises at x̃ itself.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use gan_losses::penalty::{DraganConfig, UniformNoise};
///
/// // Linear critic with ‖w‖ = 5: the perturbation does not change the gradient, so
/// // DRAGAN = λ(5 − 1)².
/// let w = Var::new(&[[3.0f64], [4.0]], &Device::Cpu)?;
/// let real = Tensor::new(&[[1.0f64, 2.0], [-1.0, 0.5]], &Device::Cpu)?;
/// let dragan = DraganConfig::default().with_lambda(1.0).build()?;
/// let output = dragan.penalty(|x| x.matmul(w.as_tensor()), &real, UniformNoise::Seeded(3))?;
/// assert!((output.value - 16.0).abs() < 1e-9);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DraganPenalty {
    config: DraganConfig,
}

impl DraganPenalty {
    /// Returns the options this penalty was built from.
    pub fn config(&self) -> &DraganConfig {
        &self.config
    }

    /// Returns x + c·std(x)·u, detached, with u drawn from `noise` in the shape of `real`.
    ///
    /// # Errors
    /// As [`penalty`](Self::penalty), less the discriminator's.
    pub fn perturb(&self, real: &Tensor, noise: UniformNoise<'_>) -> Result<Tensor> {
        check_samples("real samples", real)?;
        let real = real.detach();
        let std = population_std(&real)?;
        let noise = noise.sample(
            "perturbation noise",
            real.shape(),
            real.device(),
            real.dtype(),
        )?;
        Ok((&real + noise.affine(self.config.perturbation_scale * std, 0.0)?)?)
    }

    /// Evaluates the penalty at perturbed real samples `[B, ...]`, with u drawn from `noise` in
    /// the shape of `real`.
    ///
    /// # Errors
    /// - [`Error::EmptyBatch`] or [`Error::UnsupportedDtype`] for empty or integer samples.
    /// - [`Error::SampleShapeMismatch`] for given noise of another shape than the samples.
    /// - [`Error::InvalidNoise`] for given noise outside [0, 1].
    /// - [`Error::DiscriminatorOutputShape`] when the output does not start with the batch size.
    /// - [`Error::DoubleBackwardDisabled`] in exact mode without double backward.
    /// - Candle's errors from the discriminator.
    pub fn penalty<D>(
        &self,
        discriminator: D,
        real: &Tensor,
        noise: UniformNoise<'_>,
    ) -> Result<PenaltyOutput>
    where
        D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    {
        let batch = check_samples("real samples", real)?;
        let perturbed = self.perturb(real, noise)?;
        let norm = self.config.norm();
        evaluate(
            &discriminator,
            &perturbed,
            batch,
            self.config.mode,
            |squared| norm.apply(squared),
        )
    }
}

/// Standard deviation over all elements, dividing by the count (numpy's default).
fn population_std(samples: &Tensor) -> Result<f64> {
    let values = samples.to_dtype(DType::F64)?;
    let mean = values.mean_all()?;
    let variance = values.broadcast_sub(&mean)?.sqr()?.mean_all()?;
    Ok(variance.to_scalar::<f64>()?.sqrt())
}
