//! The zero-centred penalties R1 (on real samples) and R2 (on fake samples).

use candle_core::Tensor;

use super::gradient::{check_samples, evaluate};
use super::mode::PenaltyMode;
use super::output::PenaltyOutput;
use crate::error::{Error, Result};

/// Options of [`ZeroCenteredPenalty`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct ZeroCenteredConfig {
    /// Weight γ in (γ/2)·meanᵢ‖∇ₓD(xᵢ)‖². Default 10, the value StyleGAN uses on FFHQ;
    /// the right γ depends on the data and the resolution.
    pub gamma: f64,
    /// Exact double backward (default) or a finite difference.
    pub mode: PenaltyMode,
}

impl Default for ZeroCenteredConfig {
    fn default() -> Self {
        Self {
            gamma: 10.0,
            mode: PenaltyMode::Exact,
        }
    }
}

impl ZeroCenteredConfig {
    /// Sets γ.
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
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
    /// [`Error::InvalidOption`] for a negative or non-finite γ or a finite-difference step that
    /// is not positive and finite.
    pub fn build(self) -> Result<ZeroCenteredPenalty> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::InvalidOption {
                option: "gamma",
                value: self.gamma,
                expected: "a finite, non-negative weight such as 10.0",
            });
        }
        self.mode.check()?;
        Ok(ZeroCenteredPenalty { config: self })
    }
}

/// The zero-centred gradient penalty of Mescheder, Geiger and Nowozin, "Which Training Methods
/// for GANs do actually Converge?" (ICML 2018): R1 on real samples, R2 on fake samples.
///
/// ```text
/// R(x) = (γ/2) · meanᵢ ‖∇ₓD(xᵢ)‖²        (norm over all non-batch dimensions)
/// ∇θ R = (γ/B) · Σᵢ (∂²D/∂θ∂x)(xᵢ) · ∇ₓD(xᵢ)
/// ```
///
/// The discriminator is a closure from a batch `[B, ...]` to outputs whose first dimension is
/// `B`, such as `[B]`, `[B, 1]` or a patch map `[B, 1, H, W]`. The outputs of one sample are
/// summed.
/// The samples are detached first, so no gradient reaches the generator through R2.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use gan_losses::penalty::ZeroCenteredConfig;
///
/// // Linear critic D(x) = x·w: ∇ₓD = w, so R1 = (γ/2)‖w‖² and ∇w R1 = γw.
/// let w = Var::new(&[[3.0f64], [4.0]], &Device::Cpu)?;
/// let real = Tensor::new(&[[1.0f64, 2.0], [-1.0, 0.5]], &Device::Cpu)?;
/// let r1 = ZeroCenteredConfig::default().with_gamma(2.0).build()?;
/// let output = r1.r1(|x| x.matmul(w.as_tensor()), &real)?;
/// assert!((output.value - 25.0).abs() < 1e-12);
///
/// let gradient = output.term.backward()?.get(w.as_tensor()).unwrap().flatten_all()?;
/// assert_eq!(gradient.to_vec1::<f64>()?, vec![6.0, 8.0]);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroCenteredPenalty {
    config: ZeroCenteredConfig,
}

impl ZeroCenteredPenalty {
    /// Returns the options this penalty was built from.
    pub fn config(&self) -> &ZeroCenteredConfig {
        &self.config
    }

    /// Evaluates R1 at the real samples.
    ///
    /// # Errors
    /// - [`Error::EmptyBatch`] or [`Error::UnsupportedDtype`] for empty or integer samples.
    /// - [`Error::DiscriminatorOutputShape`] when the output does not start with the batch size.
    /// - [`Error::DoubleBackwardDisabled`] in exact mode without double backward.
    /// - Candle's errors from the discriminator.
    pub fn r1<D>(&self, discriminator: D, real: &Tensor) -> Result<PenaltyOutput>
    where
        D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    {
        self.evaluate(&discriminator, "real samples", real)
    }

    /// Evaluates R2 at the fake samples, detached from the generator.
    ///
    /// # Errors
    /// As [`r1`](Self::r1).
    pub fn r2<D>(&self, discriminator: D, fake: &Tensor) -> Result<PenaltyOutput>
    where
        D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    {
        self.evaluate(&discriminator, "fake samples", fake)
    }

    fn evaluate<D>(
        &self,
        discriminator: &D,
        name: &'static str,
        samples: &Tensor,
    ) -> Result<PenaltyOutput>
    where
        D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    {
        let batch = check_samples(name, samples)?;
        let half_gamma = 0.5 * self.config.gamma;
        evaluate(discriminator, samples, batch, self.config.mode, |squared| {
            Ok(squared.mean_all()?.affine(half_gamma, 0.0)?)
        })
    }
}
