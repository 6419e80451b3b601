//! The Wasserstein GAN critic loss.

use crate::error::Result;
use crate::options::{check_group_weight, Kernel, Reduction};
use crate::spec::{impl_single_term_loss, FakeSpec, PairSpec};
use crate::summary::Score;
use crate::term::Term;

/// Options of [`WassersteinLoss`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct WassersteinConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Factor on the real batch's mean (or sum). Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum). Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for WassersteinConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            real_weight: 1.0,
            fake_weight: 1.0,
            kernel: Kernel::Fused,
        }
    }
}

impl WassersteinConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
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
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a negative or non-finite group
    /// weight.
    pub fn build(self) -> Result<WassersteinLoss> {
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let discriminator = PairSpec {
            real_term: Term::Linear { sign: -1.0 },
            fake_term: Term::Linear { sign: 1.0 },
            real_scale: self.real_weight,
            fake_scale: self.fake_weight,
            reduction: self.reduction,
            kernel: self.kernel,
            score: Score::Critic { boundary: 0.0 },
            margins: None,
        };
        let generator = FakeSpec {
            term: Term::Linear { sign: -1.0 },
            scale: 1.0,
            reduction: self.reduction,
            kernel: self.kernel,
        };
        Ok(WassersteinLoss {
            config: self,
            discriminator,
            generator,
        })
    }
}

/// Wasserstein GAN critic loss (Arjovsky et al., 2017, "Wasserstein GAN").
///
/// ```text
/// D loss  = w_f·mean f − w_r·mean r
/// ∂/∂r    = −w_r/N_r,   ∂/∂f = w_f/N_f
/// G loss  = −mean f,    ∂/∂f = −1/N_f
/// ```
///
/// The outputs are raw critic scores. Minimising the critic loss maximises mean r − mean f,
/// which estimates the Wasserstein-1 distance between the two distributions only when the critic
/// is 1-Lipschitz. Without a constraint, such as a gradient penalty, spectral normalisation or
/// weight clipping, the loss is unbounded below and its value means nothing. This loss does not
/// enforce the constraint.
///
/// The loss is linear, so it needs no stable rewrite; infinite outputs give an infinite loss and
/// NaN propagates. For monitoring, the scores are the raw outputs and the decision boundary is 0,
/// and [`Summary::wasserstein_estimate`](crate::Summary::wasserstein_estimate) is the critic's distance estimate.
///
/// # Shapes
/// Any shape; the real and the fake batch may differ. The loss is rank 0, in the input dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{DiscriminatorLoss, GeneratorLoss, WassersteinLoss};
///
/// let real = Tensor::new(&[3.0f32, 1.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[-1.0f32, 0.0, 4.0], &Device::Cpu)?;
/// let loss = WassersteinLoss::new();
/// // mean f − mean r = 1 − 2.
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d + 1.0).abs() < 1e-6);
/// let g = loss.generator_loss(&fake)?.to_scalar::<f32>()?;
/// assert!((g + 1.0).abs() < 1e-6);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WassersteinLoss {
    config: WassersteinConfig,
    discriminator: PairSpec,
    generator: FakeSpec,
}

impl WassersteinLoss {
    /// Builds the standard critic loss with mean reduction.
    pub fn new() -> Self {
        Self::from_config(WassersteinConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`WassersteinConfig::build`].
    ///
    /// # Errors
    /// As for [`WassersteinConfig::build`].
    pub fn from_config(config: WassersteinConfig) -> Result<Self> {
        config.build()
    }

    /// Returns the options this loss was built from.
    pub fn config(&self) -> &WassersteinConfig {
        &self.config
    }
}

impl Default for WassersteinLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl_single_term_loss!(WassersteinLoss);
