//! Binary cross-entropy: the minimax GAN loss and its weighted form.

use candle_core::Tensor;

use crate::batch::Batch;
use crate::error::Result;
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::options::{check_group_weight, GeneratorForm, Input, Kernel, Labels, Reduction};
use crate::spec::{impl_single_term_loss, FakeSpec, PairSpec};
use crate::summary::{Score, Summary, Terms};
use crate::term::Term;

/// Options of [`BceLoss`] and [`WeightedBceLoss`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct BceConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Discriminator targets. Default: hard labels 1 and 0.
    pub labels: Labels,
    /// Logits (default) or probabilities.
    pub input: Input,
    /// Non-saturating (default) or saturating generator loss.
    pub generator: GeneratorForm,
    /// Factor on the real batch's mean (or sum). Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum). Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for BceConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            labels: Labels::Hard,
            input: Input::Logits,
            generator: GeneratorForm::NonSaturating,
            real_weight: 1.0,
            fake_weight: 1.0,
            kernel: Kernel::Fused,
        }
    }
}

impl BceConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets one-sided label smoothing: real target 1 − α, fake target 0.
    pub fn with_label_smoothing(mut self, alpha: f64) -> Self {
        self.labels = Labels::OneSidedSmoothing(alpha);
        self
    }

    /// Sets explicit real and fake targets, each in [0, 1].
    pub fn with_targets(mut self, real: f64, fake: f64) -> Self {
        self.labels = Labels::Explicit { real, fake };
        self
    }

    /// Sets whether the discriminator outputs logits or probabilities.
    pub fn with_input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    /// Sets the generator loss form.
    pub fn with_generator(mut self, generator: GeneratorForm) -> Self {
        self.generator = generator;
        self
    }

    /// Sets the factors on the real and the fake batch.
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
    pub fn build(self) -> Result<BceLoss> {
        let (real_target, fake_target) = self.labels.targets()?;
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let term = |target| match self.input {
            Input::Logits => Term::Bce { target },
            Input::Probabilities => Term::BceProbability { target },
        };
        let score = match self.input {
            Input::Logits => Score::Logit,
            Input::Probabilities => Score::Probability,
        };
        let discriminator = PairSpec {
            real_term: term(real_target),
            fake_term: term(fake_target),
            real_scale: self.real_weight,
            fake_scale: self.fake_weight,
            reduction: self.reduction,
            kernel: self.kernel,
            score,
            margins: None,
        };

        // Generator targets are never smoothed: the generator wants its samples called real.
        let generator = match self.generator {
            GeneratorForm::NonSaturating => FakeSpec {
                term: term(1.0),
                scale: 1.0,
                reduction: self.reduction,
                kernel: self.kernel,
            },
            GeneratorForm::Saturating => FakeSpec {
                term: term(0.0),
                scale: -1.0,
                reduction: self.reduction,
                kernel: self.kernel,
            },
        };

        Ok(BceLoss {
            config: self,
            discriminator,
            generator,
        })
    }
}

/// Binary cross-entropy GAN loss (Goodfellow et al., 2014, "Generative Adversarial Nets").
///
/// ```text
/// ℓ(x, y)   = y·softplus(−x) + (1 − y)·softplus(x)     = −y·ln σ(x) − (1 − y)·ln(1 − σ(x))
/// ∂ℓ/∂x     = σ(x) − y
/// D loss    = w_r·mean ℓ(r, y_r) + w_f·mean ℓ(f, y_f)   (y_r = 1, y_f = 0 by default)
/// G loss    = mean ℓ(f, 1) = −mean ln σ(f)              (non-saturating, default)
///           = −mean ℓ(f, 0) = mean ln(1 − σ(f))         (saturating)
/// ```
///
/// Stability: softplus(x) = max(x, 0) + ln(1 + e^(−|x|)) never overflows, and for a target of
/// exactly 0 or 1 only the softplus with a non-zero factor is evaluated. Logits of ±300 give
/// finite losses and gradients in f32; an infinite logit gives 0 on the correct side and +∞ on
/// the wrong side; NaN propagates. Half-precision inputs are computed in f32 and the result is
/// returned in the input dtype.
///
/// With [`Input::Probabilities`] the logs are clamped at −100 as in PyTorch's `BCELoss`, whose
/// gradient (p − y)/max(p(1 − p), 10⁻¹²) is also used.
///
/// # Shapes
/// Any shape, for example `[B]`, `[B, 1]` or `[B, 1, H, W]`; the real and the fake batch may
/// differ. The loss is a rank-0 tensor of the logits' dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use gan_losses::{BceLoss, DiscriminatorLoss, GeneratorLoss};
///
/// let real = Var::new(&[2.0f32, 3.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[-1.0f32, 0.0, 1.0], &Device::Cpu)?;
/// let loss = BceLoss::new();
/// let d_loss = loss.discriminator_loss(real.as_tensor(), &fake)?;
/// let grads = d_loss.backward()?;
/// assert!(grads.get(&real).is_some());
///
/// let g_loss = loss.generator_loss(&fake)?.to_scalar::<f32>()?;
/// assert!((g_loss - 0.7732).abs() < 1e-3);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BceLoss {
    config: BceConfig,
    discriminator: PairSpec,
    generator: FakeSpec,
}

impl BceLoss {
    /// The standard loss: logits, hard labels, mean, non-saturating generator.
    pub fn new() -> Self {
        Self::from_config(BceConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`BceConfig::build`].
    ///
    /// # Errors
    /// As for [`BceConfig::build`].
    pub fn from_config(config: BceConfig) -> Result<Self> {
        config.build()
    }

    /// The options this loss was built from.
    pub fn config(&self) -> &BceConfig {
        &self.config
    }
}

impl Default for BceLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl_single_term_loss!(BceLoss);

/// Weighted binary cross-entropy, for imbalanced data where real samples are rare:
///
/// ```text
/// D loss = w_r·mean ℓ(r, 1) + w_f·mean ℓ(f, 0)
/// ```
///
/// with ℓ, its gradient and its stable form as in [`BceLoss`], of which this is the special case
/// with group weights. With weights (1, 1) it equals [`BceLoss`]. The generator loss is
/// unweighted: the non-saturating mean ℓ(f, 1) by default.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{BceLoss, DiscriminatorLoss, WeightedBceLoss};
///
/// let real = Tensor::new(&[0.5f64], &Device::Cpu)?;
/// let fake = Tensor::new(&[-0.5f64], &Device::Cpu)?;
/// let weighted = WeightedBceLoss::new(3.0, 1.0)?.discriminator_loss(&real, &fake)?;
/// let plain = BceLoss::new().discriminator_loss(&real, &fake)?;
/// // The two batches contribute equally here, so weights (3, 1) double the loss.
/// let ratio = weighted.to_scalar::<f64>()? / plain.to_scalar::<f64>()?;
/// assert!((ratio - 2.0).abs() < 1e-12);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedBceLoss {
    inner: BceLoss,
}

impl WeightedBceLoss {
    /// Builds the loss with factors on the real and the fake batch.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a negative or non-finite weight.
    pub fn new(real_weight: f64, fake_weight: f64) -> Result<Self> {
        Self::from_config(BceConfig::default().with_group_weights(real_weight, fake_weight))
    }

    /// Builds the loss from options, whose group weights are the loss's weights.
    ///
    /// # Errors
    /// As for [`BceConfig::build`].
    pub fn from_config(config: BceConfig) -> Result<Self> {
        Ok(Self {
            inner: config.build()?,
        })
    }

    /// The options this loss was built from.
    pub fn config(&self) -> &BceConfig {
        self.inner.config()
    }
}

impl DiscriminatorLoss for WeightedBceLoss {
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        self.inner.discriminator_loss_with(real, fake)
    }

    fn discriminator_terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        self.inner.discriminator_terms(real, fake)
    }

    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        self.inner.discriminator_summary(real, fake)
    }

    fn discriminator_loss_and_summary(
        &self,
        real: &Batch<'_>,
        fake: &Batch<'_>,
    ) -> Result<(Tensor, Summary)> {
        self.inner.discriminator_loss_and_summary(real, fake)
    }
}

impl GeneratorLoss for WeightedBceLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        self.inner.generator_loss_with(real, fake)
    }
}
