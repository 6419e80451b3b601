//! Lazy regularisation: a penalty applied every k steps, scaled by k.

use candle_nn::ParamsAdamW;

use super::output::PenaltyOutput;
use crate::error::{Error, Result};

/// The lazy regularisation of Karras et al., "Analyzing and Improving the Image Quality of
/// StyleGAN" (CVPR 2020).
///
/// The penalty runs on one step in k and its term is multiplied by k, so its average over
/// steps matches a penalty applied every step. The optimiser of a network with a lazy penalty
/// then takes k + 1 updates (k loss steps and one penalty step) where it would take k, so its
/// hyper-parameters are rescaled with c = k/(k + 1): learning rate lr·c and Adam's β₁ᶜ, β₂ᶜ.
///
/// ```
/// use candle_nn::ParamsAdamW;
/// use gan_losses::penalty::LazyRegularization;
///
/// let lazy = LazyRegularization::new(16)?;
/// assert!(lazy.is_due(0) && lazy.is_due(32) && !lazy.is_due(5));
/// let params = lazy.adjust_adam(ParamsAdamW { lr: 0.002, beta1: 0.0, beta2: 0.99, ..Default::default() });
/// assert!((params.lr - 0.002 * 16.0 / 17.0).abs() < 1e-15);
/// assert!((params.beta2 - 0.99f64.powf(16.0 / 17.0)).abs() < 1e-15);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "LazyRegularizationFields"))]
pub struct LazyRegularization {
    interval: u64,
}

/// The serialised fields of [`LazyRegularization`], checked by [`LazyRegularization::new`] on
/// deserialisation so that an interval of 0 is rejected there too.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LazyRegularizationFields {
    interval: u64,
}

#[cfg(feature = "serde")]
impl TryFrom<LazyRegularizationFields> for LazyRegularization {
    type Error = Error;

    fn try_from(fields: LazyRegularizationFields) -> Result<Self> {
        Self::new(fields.interval)
    }
}

impl LazyRegularization {
    /// Applies the penalty every `interval` steps (16 in StyleGAN2 for R1); 1 means every step.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an interval of 0.
    pub fn new(interval: u64) -> Result<Self> {
        if interval == 0 {
            return Err(Error::InvalidOption {
                option: "interval",
                value: 0.0,
                expected: "an interval of at least 1 step, such as 16",
            });
        }
        Ok(Self { interval })
    }

    /// Returns the interval k.
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// Returns whether the penalty runs at `step`, which holds for steps 0, k, 2k, …
    pub fn is_due(&self, step: u64) -> bool {
        step.is_multiple_of(self.interval)
    }

    /// Returns the factor k on the penalty term.
    pub fn weight(&self) -> f64 {
        self.interval as f64
    }

    /// Returns the ratio c = k/(k + 1) of the optimiser rescaling.
    pub fn ratio(&self) -> f64 {
        let k = self.interval as f64;
        k / (k + 1.0)
    }

    /// Runs `penalty` when the step is due and scales its term and value by k; returns `None`
    /// otherwise without calling it. The gradient norms are left unscaled.
    ///
    /// # Errors
    /// The penalty's error, or candle's error from the scaling.
    pub fn apply<F>(&self, step: u64, penalty: F) -> Result<Option<PenaltyOutput>>
    where
        F: FnOnce() -> Result<PenaltyOutput>,
    {
        if !self.is_due(step) {
            return Ok(None);
        }
        let output = penalty()?;
        let weight = self.weight();
        Ok(Some(PenaltyOutput {
            term: output.term.affine(weight, 0.0)?,
            value: output.value * weight,
            gradient_norms: output.gradient_norms,
        }))
    }

    /// Rescales the learning rate by c and both betas to βᶜ; ε and weight decay are kept.
    ///
    /// The rescaling assumes that the penalty takes its own optimiser step, separate from the
    /// loss step, as in StyleGAN2. When the penalty term is added to the loss of a regular step
    /// instead, keep the optimiser's parameters unchanged.
    pub fn adjust_adam(&self, params: ParamsAdamW) -> ParamsAdamW {
        let (lr, beta1, beta2) = self.adjust(params.lr, params.beta1, params.beta2);
        ParamsAdamW {
            lr,
            beta1,
            beta2,
            ..params
        }
    }

    /// Returns (lr·c, β₁ᶜ, β₂ᶜ).
    pub fn adjust(&self, lr: f64, beta1: f64, beta2: f64) -> (f64, f64, f64) {
        let c = self.ratio();
        (lr * c, beta1.powf(c), beta2.powf(c))
    }
}
