//! The relativistic average least-squares GAN loss (RaLSGAN).

use candle_core::Tensor;

use super::{AverageSpec, RelativeTerms};
use crate::batch::Batch;
use crate::error::{Error, Result};
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::options::{check_group_weight, Kernel, Reduction};
use crate::summary::{Score, Summary, Terms};
use crate::term::Term;

/// Options of [`RaLsganLoss`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RaLsganConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Target of the relative real outputs r − mean f. Default 1.
    pub real_target: f64,
    /// Target of the relative fake outputs f − mean r. Default −1.
    pub fake_target: f64,
    /// Factor on the real batch's mean (or sum) in the discriminator loss, on top of the ½.
    /// Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum) in the discriminator loss, on top of the ½.
    /// Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for RaLsganConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            real_target: 1.0,
            fake_target: -1.0,
            real_weight: 1.0,
            fake_weight: 1.0,
            kernel: Kernel::Fused,
        }
    }
}

impl RaLsganConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the targets of r − mean f (real) and f − mean r (fake).
    pub fn with_targets(mut self, real_target: f64, fake_target: f64) -> Self {
        self.real_target = real_target;
        self.fake_target = fake_target;
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
    /// [`Error::InvalidOption`] for a non-finite target, a real target not above the fake target,
    /// or a negative or non-finite group weight.
    pub fn build(self) -> Result<RaLsganLoss> {
        for (option, value) in [
            ("real_target", self.real_target),
            ("fake_target", self.fake_target),
        ] {
            if !value.is_finite() {
                return Err(Error::InvalidOption {
                    option,
                    value,
                    expected: "a finite target",
                });
            }
        }
        if self.real_target <= self.fake_target {
            return Err(Error::InvalidOption {
                option: "fake_target",
                value: self.fake_target,
                expected: "a fake target below the real target, such as −1 with 1",
            });
        }
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let discriminator = RelativeTerms {
            real_term: Term::Squared {
                target: self.real_target,
            },
            fake_term: Term::Squared {
                target: self.fake_target,
            },
            real_scale: 0.5 * self.real_weight,
            fake_scale: 0.5 * self.fake_weight,
        };
        // The generator swaps the targets: its fakes should look more realistic than the reals.
        let generator = RelativeTerms {
            real_term: Term::Squared {
                target: self.fake_target,
            },
            fake_term: Term::Squared {
                target: self.real_target,
            },
            real_scale: 0.5,
            fake_scale: 0.5,
        };
        let spec = AverageSpec {
            name: "RaLSGAN",
            discriminator,
            generator,
            reduction: self.reduction,
            kernel: self.kernel,
            score: Score::Critic {
                boundary: 0.5 * (self.real_target + self.fake_target),
            },
            margins: None,
        };
        Ok(RaLsganLoss { config: self, spec })
    }
}

/// Relativistic average least-squares GAN loss (Jolicoeur-Martineau, 2018, "The relativistic
/// discriminator: a key element missing from standard GAN").
///
/// With the relative outputs r̃ = r − mean f and f̃ = f − mean r, and targets t_r = 1, t_f = −1
/// by default:
///
/// ```text
/// D loss  = ½·w_r·mean (r̃ − t_r)² + ½·w_f·mean (f̃ − t_f)²
/// G loss  = ½·mean (f̃ − t_r)² + ½·mean (r̃ − t_f)²
/// ∂(D loss)/∂r_i = w_r/N_r·(r̃_i − t_r) − w_f/N_r·mean_j (f̃_j − t_f)
/// ```
///
/// A real output receives its own term's derivative and, through mean r, minus the average
/// derivative of the fake terms; autograd carries both paths. The gradient formula is for
/// unweighted, unmasked batches. The ½ matches [`LeastSquaresLoss`](crate::LeastSquaresLoss).
///
/// The squares need no stable rewrite; an infinite output gives +∞ and NaN propagates. Batch
/// means are over included elements and are not weighted (see the
/// [module docs](super)). For monitoring, the scores are the relative outputs and
/// the decision boundary is (t_r + t_f)/2. The generator reads the real batch: call
/// [`generator_loss_with`](GeneratorLoss::generator_loss_with) with `Some(real)`.
///
/// # Shapes
/// Any shape; the real and the fake batch may differ in size. The loss is rank 0, in the input
/// dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{Batch, DiscriminatorLoss, GeneratorLoss, RaLsganLoss};
///
/// let real = Tensor::new(&[2.0f32, 4.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[1.0f32], &Device::Cpu)?;
/// let loss = RaLsganLoss::new();
/// // r − mean f = [1, 3], f − mean r = [−2]: ½·(0 + 4)/2 + ½·1.
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d - 1.5).abs() < 1e-6);
/// // ½·(−2 − 1)² + ½·((1 + 1)² + (3 + 1)²)/2.
/// let g = loss.generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))?;
/// assert!((g.to_scalar::<f32>()? - 9.5).abs() < 1e-5);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaLsganLoss {
    config: RaLsganConfig,
    spec: AverageSpec,
}

impl RaLsganLoss {
    /// Builds the standard loss: targets 1 and −1, mean.
    pub fn new() -> Self {
        Self::from_config(RaLsganConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`RaLsganConfig::build`].
    ///
    /// # Errors
    /// As for [`RaLsganConfig::build`].
    pub fn from_config(config: RaLsganConfig) -> Result<Self> {
        config.build()
    }

    /// Returns the options this loss was built from.
    pub fn config(&self) -> &RaLsganConfig {
        &self.config
    }
}

impl Default for RaLsganLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl DiscriminatorLoss for RaLsganLoss {
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

impl GeneratorLoss for RaLsganLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        self.spec.generator_loss(real, fake)
    }

    fn needs_real_logits(&self) -> bool {
        true
    }
}
