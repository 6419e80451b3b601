//! The hinge loss of SAGAN, BigGAN and StyleGAN-T.

use crate::error::Result;
use crate::options::{check_group_weight, check_margin, Kernel, Reduction};
use crate::spec::{impl_single_term_loss, FakeSpec, PairSpec};
use crate::summary::{Margins, Score};
use crate::term::Term;

/// Options of [`HingeLoss`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct HingeConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Margin m_r of the real term relu(m_r − r). Default 1.
    pub real_margin: f64,
    /// Margin m_f of the fake term relu(m_f + f). Default 1.
    pub fake_margin: f64,
    /// Factor on the real batch's mean (or sum). Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum). Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for HingeConfig {
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

impl HingeConfig {
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
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a margin that is not positive
    /// and finite, or a negative or non-finite group weight.
    pub fn build(self) -> Result<HingeLoss> {
        check_margin("real_margin", self.real_margin)?;
        check_margin("fake_margin", self.fake_margin)?;
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let discriminator = PairSpec {
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
            reduction: self.reduction,
            kernel: self.kernel,
            score: Score::Critic { boundary: 0.0 },
            margins: Some(Margins {
                real: self.real_margin,
                fake: self.fake_margin,
            }),
        };
        let generator = FakeSpec {
            term: Term::Linear { sign: -1.0 },
            scale: 1.0,
            reduction: self.reduction,
            kernel: self.kernel,
        };
        Ok(HingeLoss {
            config: self,
            discriminator,
            generator,
        })
    }
}

/// Hinge GAN loss (Lim and Ye, 2017, "Geometric GAN"; used by SAGAN and BigGAN).
///
/// ```text
/// D loss   = w_r·mean relu(m_r − r) + w_f·mean relu(m_f + f)     (m_r = m_f = 1 by default)
/// ∂/∂r     = −w_r/N_r·[r < m_r],   ∂/∂f = w_f/N_f·[f > −m_f]     (0 at the kink)
/// G loss   = −mean f                                             (no relu)
/// ```
///
/// The outputs are raw critic scores, not logits of a probability. Terms are exactly 0 past the
/// margin, so a confident discriminator stops pushing its outputs; the gradient at the kink
/// (r = m_r, or f = −m_f) is 0. Infinite outputs give 0 on the correct side and +∞ on the wrong
/// side; NaN propagates.
///
/// # Shapes
/// Any shape; the real and the fake batch may differ. The loss is rank 0, in the input dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{DiscriminatorLoss, GeneratorLoss, HingeLoss};
///
/// let real = Tensor::new(&[2.0f32, 0.5], &Device::Cpu)?;
/// let fake = Tensor::new(&[-3.0f32, 0.0], &Device::Cpu)?;
/// let loss = HingeLoss::new();
/// // Real: (0 + 0.5)/2; fake: (0 + 1)/2.
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d - 0.75).abs() < 1e-6);
/// let g = loss.generator_loss(&fake)?.to_scalar::<f32>()?;
/// assert!((g - 1.5).abs() < 1e-6);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HingeLoss {
    config: HingeConfig,
    discriminator: PairSpec,
    generator: FakeSpec,
}

impl HingeLoss {
    /// The standard hinge loss with margin 1.
    pub fn new() -> Self {
        Self::from_config(HingeConfig::default()).expect("the default options are valid")
    }

    /// Builds a hinge loss with one margin for both batches.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a margin that is not positive
    /// and finite.
    pub fn with_margin(margin: f64) -> Result<Self> {
        HingeConfig::default().with_margin(margin).build()
    }

    /// Builds the loss from options; the same as [`HingeConfig::build`].
    ///
    /// # Errors
    /// As for [`HingeConfig::build`].
    pub fn from_config(config: HingeConfig) -> Result<Self> {
        config.build()
    }

    /// The options this loss was built from.
    pub fn config(&self) -> &HingeConfig {
        &self.config
    }
}

impl Default for HingeLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl_single_term_loss!(HingeLoss);
