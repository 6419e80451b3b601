//! The relativistic average hinge loss (RaHinge).

use candle_core::Tensor;

use super::{AverageSpec, RelativeTerms};
use crate::batch::Batch;
use crate::error::Result;
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::options::{check_group_weight, check_margin, Kernel, Reduction};
use crate::summary::{Margins, Score, Summary, Terms};
use crate::term::Term;

/// Options of [`RaHingeLoss`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RaHingeConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Margin m_r of the real term relu(m_r − (r − mean f)). Default 1.
    pub real_margin: f64,
    /// Margin m_f of the fake term relu(m_f + (f − mean r)). Default 1.
    pub fake_margin: f64,
    /// Factor on the real batch's mean (or sum) in the discriminator loss. Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum) in the discriminator loss. Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for RaHingeConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            real_margin: 1.0,
            fake_margin: 1.0,
            real_weight: 1.0,
            fake_weight: 1.0,
            kernel: Kernel::Fused,
        }
    }
}

impl RaHingeConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets both margins.
    pub fn with_margin(mut self, margin: f64) -> Self {
        self.real_margin = margin;
        self.fake_margin = margin;
        self
    }

    /// Sets the real and the fake margin.
    pub fn with_margins(mut self, real_margin: f64, fake_margin: f64) -> Self {
        self.real_margin = real_margin;
        self.fake_margin = fake_margin;
        self
    }

    /// Sets the factors on the real and the fake batch of the discriminator loss.
    pub fn with_group_weights(mut self, real_weight: f64, fake_weight: f64) -> Self {
        self.real_weight = real_weight;
        self.fake_weight = fake_weight;
        self
    }

    /// Sets the kernel.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// Checks the options and builds the loss.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a margin that is not positive
    /// and finite, or a negative or non-finite group weight.
    pub fn build(self) -> Result<RaHingeLoss> {
        check_margin("real_margin", self.real_margin)?;
        check_margin("fake_margin", self.fake_margin)?;
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let discriminator = RelativeTerms {
            real_term: Term::Hinge {
                margin: self.real_margin,
                sign: 1.0,
            },
            fake_term: Term::Hinge {
                margin: self.fake_margin,
                sign: -1.0,
            },
            real_scale: self.real_weight,
            fake_scale: self.fake_weight,
        };
        // The generator swaps the roles: its fakes should clear the real margin and the reals
        // should fall below the fake one.
        let generator = RelativeTerms {
            real_term: Term::Hinge {
                margin: self.fake_margin,
                sign: -1.0,
            },
            fake_term: Term::Hinge {
                margin: self.real_margin,
                sign: 1.0,
            },
            real_scale: 1.0,
            fake_scale: 1.0,
        };
        let spec = AverageSpec {
            name: "RaHinge",
            discriminator,
            generator,
            reduction: self.reduction,
            kernel: self.kernel,
            score: Score::Critic { boundary: 0.0 },
            margins: Some(Margins {
                real: self.real_margin,
                fake: self.fake_margin,
            }),
        };
        Ok(RaHingeLoss { config: self, spec })
    }
}

/// Relativistic average hinge loss (Jolicoeur-Martineau, 2018, "The relativistic
/// discriminator: a key element missing from standard GAN").
///
/// With the relative outputs r̃ = r − mean f and f̃ = f − mean r, and margins m_r = m_f = 1 by
/// default:
///
/// ```text
/// D loss  = w_r·mean relu(m_r − r̃) + w_f·mean relu(m_f + f̃)
/// G loss  = mean relu(m_r − f̃) + mean relu(m_f + r̃)
/// ∂(D loss)/∂r_i = −w_r/N_r·[r̃_i < m_r] − w_f/N_r·mean_j [f̃_j > −m_f]    (0 at the kinks)
/// ```
///
/// Unlike [`HingeLoss`](crate::HingeLoss), whose generator loss is −mean f, the generator here
/// uses the hinge with the roles swapped, so its loss is bounded below by 0. A real output
/// receives its own term's derivative and, through mean r, the fake terms' derivatives; autograd
/// carries both paths. The gradient formula is for unweighted, unmasked batches.
///
/// Terms are exactly 0 past the margin and the gradient at a kink is 0. Infinite outputs give 0
/// on the correct side and +∞ on the wrong side; NaN propagates. Batch means are over included
/// elements and are not weighted (see the [module docs](super)). For monitoring,
/// the scores and the inside-margin fraction are those of the relative outputs, with decision
/// boundary 0. The generator reads the real batch: call
/// [`generator_loss_with`](GeneratorLoss::generator_loss_with) with `Some(real)`.
///
/// # Shapes
/// Any shape; the real and the fake batch may differ in size. The loss is rank 0, in the input
/// dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{Batch, DiscriminatorLoss, GeneratorLoss, RaHingeLoss};
///
/// let real = Tensor::new(&[0.5f32, 2.5], &Device::Cpu)?;
/// let fake = Tensor::new(&[0.0f32], &Device::Cpu)?;
/// let loss = RaHingeLoss::new();
/// // r − mean f = [0.5, 2.5], f − mean r = [−1.5]: (0.5 + 0)/2 + 0.
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d - 0.25).abs() < 1e-6);
/// // relu(1 + 1.5) + (relu(1 + 0.5) + relu(1 + 2.5))/2.
/// let g = loss.generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))?;
/// assert!((g.to_scalar::<f32>()? - 5.0).abs() < 1e-6);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaHingeLoss {
    config: RaHingeConfig,
    spec: AverageSpec,
}

impl RaHingeLoss {
    /// Builds the standard loss with margin 1.
    pub fn new() -> Self {
        Self::from_config(RaHingeConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`RaHingeConfig::build`].
    ///
    /// # Errors
    /// As for [`RaHingeConfig::build`].
    pub fn from_config(config: RaHingeConfig) -> Result<Self> {
        config.build()
    }

    /// Returns the options this loss was built from.
    pub fn config(&self) -> &RaHingeConfig {
        &self.config
    }
}

impl Default for RaHingeLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl DiscriminatorLoss for RaHingeLoss {
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        self.spec.discriminator_loss(real, fake)
    }

    fn discriminator_terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        self.spec.terms(real, fake)
    }

    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        self.spec.summary(real, fake)
    }
}

impl GeneratorLoss for RaHingeLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        self.spec.generator_loss(real, fake)
    }

    fn needs_real_logits(&self) -> bool {
        true
    }
}
