//! The paired relativistic standard GAN loss (RSGAN).

use candle_core::{DType, Tensor};

use crate::batch::{check_pair, compute_dtype, Batch, REAL};
use crate::error::{Error, Result};
use crate::group::{included, Group};
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::options::{GeneratorForm, Kernel, Labels, Reduction};
use crate::summary::{summarize, to_input_dtype, Score, Summary, Terms};
use crate::term::Term;

/// Options of [`RsganLoss`], checked by [`build`](Self::build).
///
/// The loss has one term per pair of a real and a fake output, so it has no separate real and
/// fake group weights.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RsganConfig {
    /// Reduction of the pair terms. Default: mean.
    pub reduction: Reduction,
    /// Discriminator target of r − f; the fake target is unused, since every term is on a pair.
    /// Default: 1.
    pub labels: Labels,
    /// Non-saturating (default) or saturating generator loss.
    pub generator: GeneratorForm,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for RsganConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            labels: Labels::Hard,
            generator: GeneratorForm::NonSaturating,
            kernel: Kernel::Fused,
        }
    }
}

impl RsganConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets one-sided label smoothing: the target of r − f becomes 1 − α.
    pub fn with_label_smoothing(mut self, alpha: f64) -> Self {
        self.labels = Labels::OneSidedSmoothing(alpha);
        self
    }

    /// Sets the generator loss form.
    pub fn with_generator(mut self, generator: GeneratorForm) -> Self {
        self.generator = generator;
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
    /// [`Error::InvalidOption`] for a smoothing outside [0, 1) or a target outside [0, 1].
    pub fn build(self) -> Result<RsganLoss> {
        let (target, _) = self.labels.targets()?;
        Ok(RsganLoss {
            config: self,
            target,
        })
    }
}

/// Paired relativistic standard GAN loss (Jolicoeur-Martineau, 2018, "The relativistic
/// discriminator: a key element missing from standard GAN").
///
/// With ℓ(x, y) = y·softplus(−x) + (1 − y)·softplus(x), the binary cross-entropy of logit x,
/// over pairs (r_i, f_i) of outputs at one index:
///
/// ```text
/// D loss  = mean ℓ(r_i − f_i, y)  = mean softplus(−(r_i − f_i))    (y = 1 by default)
/// ∂/∂r_i  = (σ(r_i − f_i) − y)/N,   ∂/∂f_i = −∂/∂r_i
/// G loss  = mean softplus(−(f_i − r_i))                           (non-saturating, default)
///         = −mean softplus(−(r_i − f_i))                          (saturating)
/// ```
///
/// The discriminator estimates the probability σ(r − f) that a real sample is more realistic
/// than its paired fake. The non-saturating generator swaps the roles of real and fake, as
/// Jolicoeur-Martineau defines it. The saturating form is the negated discriminator objective
/// with a hard label (the minimax game), and its gradient vanishes once the discriminator
/// separates the pairs confidently. Both generator forms read the real batch, so call
/// [`generator_loss_with`](GeneratorLoss::generator_loss_with) with `Some(real)`.
///
/// Stability: the softplus form of [`BceLoss`](crate::BceLoss) is used on the differences.
/// Label smoothing sets the discriminator's target to 1 − α.
///
/// # Pairs, weights and masks
/// The real and the fake batch must have one shape. A pair's weight is the product of its real
/// and fake weights (a missing side counts as 1), and a pair is included when both of its
/// elements are. Under [`Reduction::Mean`] the divisor is the count of included pairs.
///
/// # Terms and summary
/// [`Terms::real`] holds the pair terms and [`Terms::fake`] is zero, so their sum is still the
/// loss under [`Reduction::Sum`]. In the [`Summary`], `real_term` is the loss and `fake_term` is 0;
/// the scores are mean σ(r − f) and mean σ(f − r) over included pairs, the decision boundary of
/// the differences is 0, and `wasserstein_estimate` is mean (r − f).
///
/// # Errors
/// [`Error::UnpairedBatches`] when the batches differ in shape, and the input errors of
/// [`DiscriminatorLoss::discriminator_loss_with`].
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{Batch, DiscriminatorLoss, GeneratorLoss, RsganLoss};
///
/// let real = Tensor::new(&[1.0f64, 0.5], &Device::Cpu)?;
/// let fake = Tensor::new(&[-1.0f64, 1.5], &Device::Cpu)?;
/// let loss = RsganLoss::new();
/// // r − f = [2, −1].
/// let softplus = |x: f64| (1.0 + x.exp()).ln();
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f64>()?;
/// assert!((d - (softplus(-2.0) + softplus(1.0)) / 2.0).abs() < 1e-12);
/// let g = loss.generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))?;
/// assert!((g.to_scalar::<f64>()? - (softplus(2.0) + softplus(-1.0)) / 2.0).abs() < 1e-12);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RsganLoss {
    config: RsganConfig,
    target: f64,
}

/// The pairs of a real and a fake batch: differences with the combined weights and mask.
struct Pairs {
    difference: Tensor,
    weights: Option<Tensor>,
    mask: Option<Tensor>,
}

impl Pairs {
    /// Checks the batches and builds `sign·(r − f)` in the compute dtype.
    fn new(real: &Batch<'_>, fake: &Batch<'_>, sign: f64) -> Result<Self> {
        check_pair(real, fake)?;
        if real.logits().shape() != fake.logits().shape() {
            return Err(Error::UnpairedBatches {
                loss: "RSGAN",
                real: real.logits().shape().clone(),
                fake: fake.logits().shape().clone(),
            });
        }

        let dtype = compute_dtype(real.logits().dtype());
        let r = real.logits().to_dtype(dtype)?;
        let f = fake.logits().to_dtype(dtype)?;
        let difference = r.sub(&f)?.affine(sign, 0.0)?;

        let weights = match (real.weights(), fake.weights()) {
            (Some(a), Some(b)) => Some(a.to_dtype(dtype)?.mul(&b.to_dtype(dtype)?)?),
            (Some(a), None) | (None, Some(a)) => Some(a.to_dtype(dtype)?),
            (None, None) => None,
        };
        let mask = match (real.mask(), fake.mask()) {
            (Some(a), Some(b)) => Some(included(a)?.mul(&included(b)?)?),
            (Some(a), None) | (None, Some(a)) => Some(included(a)?),
            (None, None) => None,
        };
        Ok(Self {
            difference,
            weights,
            mask,
        })
    }

    fn batch_of<'a>(&'a self, logits: &'a Tensor) -> Batch<'a> {
        let mut batch = Batch::new(logits);
        if let Some(weights) = &self.weights {
            batch = batch.with_weights(weights);
        }
        if let Some(mask) = &self.mask {
            batch = batch.with_mask(mask);
        }
        batch
    }

    fn group(&self, term: Term, scale: f64) -> Group<'_> {
        Group {
            batch: self.batch_of(&self.difference),
            names: REAL,
            term,
            scale,
        }
    }
}

impl RsganLoss {
    /// Builds the standard loss: hard label, mean, non-saturating generator.
    pub fn new() -> Self {
        Self::from_config(RsganConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`RsganConfig::build`].
    ///
    /// # Errors
    /// As for [`RsganConfig::build`].
    pub fn from_config(config: RsganConfig) -> Result<Self> {
        config.build()
    }

    /// Returns the options this loss was built from.
    pub fn config(&self) -> &RsganConfig {
        &self.config
    }

    fn reduce(&self, group: &Group<'_>, dtype: DType) -> Result<Tensor> {
        let value = group.reduce(self.config.reduction, self.config.kernel)?;
        Ok(value.to_dtype(dtype)?)
    }
}

impl Default for RsganLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl DiscriminatorLoss for RsganLoss {
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        let pairs = Pairs::new(real, fake, 1.0)?;
        let group = pairs.group(
            Term::Bce {
                target: self.target,
            },
            1.0,
        );
        self.reduce(&group, real.logits().dtype())
    }

    fn discriminator_terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        let pairs = Pairs::new(real, fake, 1.0)?;
        let group = pairs.group(
            Term::Bce {
                target: self.target,
            },
            1.0,
        );
        Ok(Terms {
            real: to_input_dtype(group.element_terms_plain()?, real.logits())?,
            fake: fake.logits().zeros_like()?,
        })
    }

    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        let detached_real = real.logits().detach();
        let detached_fake = fake.logits().detach();
        let real = super::with_batch_options(&detached_real, real);
        let fake = super::with_batch_options(&detached_fake, fake);
        let pairs = Pairs::new(&real, &fake, 1.0)?;
        let group = pairs.group(
            Term::Bce {
                target: self.target,
            },
            1.0,
        );
        let loss = group.reduce(self.config.reduction, self.config.kernel)?;
        let reversed = pairs.difference.neg()?;

        let mut summary = summarize(
            &loss,
            &loss.zeros_like()?,
            &group.batch,
            &pairs.batch_of(&reversed),
            Score::Logit,
            None,
        )?;
        // mean (r − f) − mean (f − r) = 2·mean (r − f).
        summary.wasserstein_estimate /= 2.0;
        Ok(summary)
    }
}

impl GeneratorLoss for RsganLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        let real = real.ok_or(Error::MissingRealLogits { loss: "RSGAN" })?;
        let dtype = real.logits().dtype();
        match self.config.generator {
            GeneratorForm::NonSaturating => {
                let pairs = Pairs::new(real, fake, -1.0)?;
                self.reduce(&pairs.group(Term::Bce { target: 1.0 }, 1.0), dtype)
            }
            GeneratorForm::Saturating => {
                let pairs = Pairs::new(real, fake, 1.0)?;
                self.reduce(&pairs.group(Term::Bce { target: 1.0 }, -1.0), dtype)
            }
        }
    }

    fn needs_real_logits(&self) -> bool {
        true
    }
}
