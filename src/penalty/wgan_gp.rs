//! The WGAN-GP penalty at random interpolates between real and fake samples.

use candle_core::Tensor;

use super::gradient::{check_same_kind, check_samples, evaluate};
use super::mode::PenaltyMode;
use super::noise::UniformNoise;
use super::output::PenaltyOutput;
use super::target_norm::{Side, TargetNorm};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;

/// Options of [`WganGpPenalty`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct WganGpConfig {
    /// Weight λ. Default 10, the value of Gulrajani et al.
    pub lambda: f64,
    /// Target norm t. Default 1, the Lipschitz constant of the WGAN critic.
    pub target: f64,
    /// Two-sided (default) or one-sided.
    pub side: Side,
    /// ε in √(‖g‖² + ε), which keeps the gradient finite at g = 0. Default 1e-12; must be
    /// positive, because 0 gives NaN gradients for a sample whose input gradient is exactly zero.
    pub epsilon: f64,
    /// Exact double backward (default) or a finite difference.
    pub mode: PenaltyMode,
}

impl Default for WganGpConfig {
    fn default() -> Self {
        Self {
            lambda: 10.0,
            target: 1.0,
            side: Side::TwoSided,
            epsilon: 1e-12,
            mode: PenaltyMode::Exact,
        }
    }
}

impl WganGpConfig {
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

    /// Sets the mode.
    pub fn with_mode(mut self, mode: PenaltyMode) -> Self {
        self.mode = mode;
        self
    }

    /// Checks the options and builds the penalty.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a negative or non-finite λ,
    /// target or ε, or a finite-difference step that is not positive and finite.
    pub fn build(self) -> Result<WganGpPenalty> {
        self.norm().check()?;
        self.mode.check()?;
        Ok(WganGpPenalty { config: self })
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

/// The gradient penalty of Gulrajani et al., "Improved Training of Wasserstein GANs"
/// (NeurIPS 2017).
///
/// ```text
/// x̂ᵢ = αᵢ·realᵢ + (1 − αᵢ)·fakeᵢ,   αᵢ ~ U[0, 1), one per sample
/// nᵢ = √(‖∇ₓD(x̂ᵢ)‖² + ε)
/// GP = λ · meanᵢ (nᵢ − t)²            two-sided
/// GP = λ · meanᵢ max(0, nᵢ − t)²      one-sided
/// ∇θ GP = (2λ/B) · Σᵢ (nᵢ − t)/nᵢ · (∂²D/∂θ∂x)(x̂ᵢ) · ∇ₓD(x̂ᵢ)   (one-sided: only nᵢ > t)
/// ```
///
/// ε keeps 1/nᵢ finite when a sample's input gradient is exactly zero. The interpolates are
/// built from detached samples, so no gradient reaches the generator.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use gan_losses::penalty::{UniformNoise, WganGpConfig};
///
/// // Linear critic with ‖w‖ = 5: every interpolate has gradient norm 5, so GP = λ(5 − 1)².
/// let w = Var::new(&[[3.0f64], [4.0]], &Device::Cpu)?;
/// let real = Tensor::new(&[[1.0f64, 2.0], [-1.0, 0.5]], &Device::Cpu)?;
/// let fake = Tensor::new(&[[0.0f64, 0.0], [2.0, 1.0]], &Device::Cpu)?;
/// let gp = WganGpConfig::default().build()?;
/// let output = gp.penalty(|x| x.matmul(w.as_tensor()), &real, &fake, UniformNoise::Seeded(7))?;
/// assert!((output.value - 160.0).abs() < 1e-9);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WganGpPenalty {
    config: WganGpConfig,
}

impl WganGpPenalty {
    /// Returns the options this penalty was built from.
    pub fn config(&self) -> &WganGpConfig {
        &self.config
    }

    /// Evaluates the penalty at interpolates of `real` and `fake` (one shape `[B, ...]`), with
    /// α of shape `[B]` drawn from `alpha`.
    ///
    /// # Errors
    /// - [`Error::EmptyBatch`] or [`Error::UnsupportedDtype`] for empty or integer samples.
    /// - [`Error::SampleShapeMismatch`] when the batches or a given α differ in shape.
    /// - [`Error::DtypeMismatch`] when the batches differ in dtype.
    /// - [`Error::InvalidNoise`] for a given α outside [0, 1].
    /// - [`Error::DiscriminatorOutputShape`] when the output does not start with the batch size.
    /// - [`Error::DoubleBackwardDisabled`] in exact mode without double backward.
    /// - Candle's errors from the discriminator.
    pub fn penalty<D>(
        &self,
        discriminator: D,
        real: &Tensor,
        fake: &Tensor,
        alpha: UniformNoise<'_>,
    ) -> Result<PenaltyOutput>
    where
        D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    {
        let batch = check_samples("real samples", real)?;
        check_samples("fake samples", fake)?;
        check_same_kind("fake samples", fake, "real samples", real)?;

        let alpha = alpha.sample("alpha", &batch.into(), real.device(), real.dtype())?;
        let mut broadcast_shape = vec![batch];
        broadcast_shape.resize(real.rank(), 1);
        let alpha = alpha.reshape(broadcast_shape)?;
        let real = real.detach();
        let fake = fake.detach();
        let interpolates = (&fake + (real - &fake)?.broadcast_mul(&alpha)?)?;

        let norm = self.config.norm();
        evaluate(
            &discriminator,
            &interpolates,
            batch,
            self.config.mode,
            |squared| norm.apply(squared),
        )
    }
}
