//! The relativistic average standard GAN loss (RaSGAN).

use candle_core::Tensor;

use super::{AverageSpec, RelativeTerms};
use crate::batch::Batch;
use crate::error::Result;
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::options::{check_group_weight, GeneratorForm, Kernel, Labels, Reduction};
use crate::summary::{Score, Summary, Terms};
use crate::term::Term;

/// Options of [`RaSganLoss`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RaSganConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Discriminator targets of r − mean f (real) and f − mean r (fake). Default: 1 and 0.
    pub labels: Labels,
    /// Non-saturating (default) or saturating generator loss.
    pub generator: GeneratorForm,
    /// Factor on the real batch's mean (or sum) in the discriminator loss. Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum) in the discriminator loss. Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for RaSganConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            labels: Labels::Hard,
            generator: GeneratorForm::NonSaturating,
            real_weight: 1.0,
            fake_weight: 1.0,
            kernel: Kernel::Fused,
        }
    }
}

impl RaSganConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets one-sided label smoothing: the target of r − mean f becomes 1 − α.
    pub fn with_label_smoothing(mut self, alpha: f64) -> Self {
        self.labels = Labels::OneSidedSmoothing(alpha);
        self
    }

    /// Sets explicit targets of r − mean f (real) and f − mean r (fake), each in [0, 1].
    pub fn with_targets(mut self, real: f64, fake: f64) -> Self {
        self.labels = Labels::Explicit { real, fake };
        self
    }

    /// Sets the generator loss form.
    pub fn with_generator(mut self, generator: GeneratorForm) -> Self {
        self.generator = generator;
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
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a smoothing outside [0, 1), a
    /// target outside [0, 1], or a negative or non-finite group weight.
    pub fn build(self) -> Result<RaSganLoss> {
        let (real_target, fake_target) = self.labels.targets()?;
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let discriminator = RelativeTerms {
            real_term: Term::Bce {
                target: real_target,
            },
            fake_term: Term::Bce {
                target: fake_target,
            },
            real_scale: self.real_weight,
            fake_scale: self.fake_weight,
        };
        // Generator targets are never smoothed, and the group weights are discriminator options.
        let generator = match self.generator {
            GeneratorForm::NonSaturating => RelativeTerms {
                real_term: Term::Bce { target: 0.0 },
                fake_term: Term::Bce { target: 1.0 },
                real_scale: 1.0,
                fake_scale: 1.0,
            },
            GeneratorForm::Saturating => RelativeTerms {
                real_term: Term::Bce { target: 1.0 },
                fake_term: Term::Bce { target: 0.0 },
                real_scale: -1.0,
                fake_scale: -1.0,
            },
        };
        let spec = AverageSpec {
            name: "RaSGAN",
            discriminator,
            generator,
            reduction: self.reduction,
            kernel: self.kernel,
            score: Score::Logit,
            margins: None,
        };
        Ok(RaSganLoss { config: self, spec })
    }
}

/// Relativistic average standard GAN loss (Jolicoeur-Martineau, 2018, "The relativistic
/// discriminator: a key element missing from standard GAN").
///
/// With ℓ(x, y) = y·softplus(−x) + (1 − y)·softplus(x), the binary cross-entropy of logit x,
/// and the relative logits r̃ = r − mean f and f̃ = f − mean r:
///
/// ```text
/// D loss  = w_r·mean ℓ(r̃, y_r) + w_f·mean ℓ(f̃, y_f)          (y_r = 1, y_f = 0 by default)
/// G loss  = mean ℓ(f̃, 1) + mean ℓ(r̃, 0)                       (non-saturating, default)
///         = −mean ℓ(r̃, 1) − mean ℓ(f̃, 0)                      (saturating)
/// ∂ℓ/∂x   = σ(x) − y
/// ∂(D loss)/∂r_i = w_r/N_r·(σ(r̃_i) − y_r) − w_f/N_r·mean_j (σ(f̃_j) − y_f)
/// ```
///
/// A real logit receives its own term's derivative. Through mean r it also receives minus the
/// average derivative of the fake terms, and the fake logits mirror this. Autograd carries both
/// paths. The formula is for unweighted, unmasked batches.
///
/// The discriminator estimates the probability σ(r − mean f) that a real sample is more
/// realistic than the average fake. The non-saturating generator swaps the roles of real and
/// fake, as Jolicoeur-Martineau defines it, so it also pushes the real logits down. The
/// saturating form is the negated discriminator objective with hard labels (the minimax game).
/// As with the saturating standard GAN loss, its gradient vanishes when the discriminator
/// separates the batches confidently. Both generator forms read the real batch, so call
/// [`generator_loss_with`](GeneratorLoss::generator_loss_with) with `Some(real)`.
///
/// Stability: the softplus form of [`BceLoss`](crate::BceLoss) is used on the relative logits.
/// Label smoothing is one-sided on the real term. Batch means are over included elements and are
/// not weighted (see the [module docs](super)). For monitoring, the scores are
/// σ(r − mean f) and σ(f − mean r) and the decision boundary of the relative logits is 0.
///
/// # Shapes
/// Any shape; the real and the fake batch may differ in size. The loss is rank 0, in the input
/// dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{Batch, DiscriminatorLoss, GeneratorLoss, RaSganLoss};
///
/// let real = Tensor::new(&[1.0f64, 3.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[0.0f64], &Device::Cpu)?;
/// let loss = RaSganLoss::new();
/// // r − mean f = [1, 3], f − mean r = [−2].
/// let softplus = |x: f64| (1.0 + x.exp()).ln();
/// let expected = (softplus(-1.0) + softplus(-3.0)) / 2.0 + softplus(-2.0);
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f64>()?;
/// assert!((d - expected).abs() < 1e-12);
///
/// // The generator needs the real batch.
/// assert!(loss.generator_loss(&fake).is_err());
/// let g = loss.generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))?;
/// let expected = softplus(2.0) + (softplus(1.0) + softplus(3.0)) / 2.0;
/// assert!((g.to_scalar::<f64>()? - expected).abs() < 1e-12);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaSganLoss {
    config: RaSganConfig,
    spec: AverageSpec,
}

impl RaSganLoss {
    /// Builds the standard loss: hard labels, mean, non-saturating generator.
    pub fn new() -> Self {
        Self::from_config(RaSganConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`RaSganConfig::build`].
    ///
    /// # Errors
    /// As for [`RaSganConfig::build`].
    pub fn from_config(config: RaSganConfig) -> Result<Self> {
        config.build()
    }

    /// Returns the options this loss was built from.
    pub fn config(&self) -> &RaSganConfig {
        &self.config
    }
}

impl Default for RaSganLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl DiscriminatorLoss for RaSganLoss {
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

impl GeneratorLoss for RaSganLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        self.spec.generator_loss(real, fake)
    }

    fn needs_real_logits(&self) -> bool {
        true
    }
}
