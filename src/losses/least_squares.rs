//! The least-squares GAN loss (LSGAN).

use crate::error::{Error, Result};
use crate::options::{check_group_weight, Kernel, Reduction};
use crate::spec::{impl_single_term_loss, FakeSpec, PairSpec};
use crate::summary::Score;
use crate::term::Term;

/// Options of [`LeastSquaresLoss`], checked by [`build`](Self::build).
///
/// The targets follow the notation of Mao et al.: `a` for fakes, `b` for reals, `c` for the value
/// the generator wants the discriminator to output on its samples.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct LeastSquaresConfig {
    /// Reduction of the element terms. Default: mean.
    pub reduction: Reduction,
    /// Target b of the real outputs. Default 1.
    pub real_target: f64,
    /// Target a of the fake outputs. Default 0.
    pub fake_target: f64,
    /// Target c of the generator loss. Default 1.
    pub generator_target: f64,
    /// Factor on the real batch's mean (or sum), on top of the ½. Default 1.
    pub real_weight: f64,
    /// Factor on the fake batch's mean (or sum), on top of the ½. Default 1.
    pub fake_weight: f64,
    /// Fused kernel (default) or plain candle ops.
    pub kernel: Kernel,
}

impl Default for LeastSquaresConfig {
    fn default() -> Self {
        Self {
            reduction: Reduction::Mean,
            real_target: 1.0,
            fake_target: 0.0,
            generator_target: 1.0,
            real_weight: 1.0,
            fake_weight: 1.0,
            kernel: Kernel::Fused,
        }
    }
}

impl LeastSquaresConfig {
    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the discriminator targets b (real) and a (fake).
    pub fn with_targets(mut self, real_target: f64, fake_target: f64) -> Self {
        self.real_target = real_target;
        self.fake_target = fake_target;
        self
    }

    /// Sets the generator target c.
    pub fn with_generator_target(mut self, generator_target: f64) -> Self {
        self.generator_target = generator_target;
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
    /// [`Error::InvalidOption`] for a non-finite target, a real target equal to the fake target
    /// (the discriminator would have nothing to separate), or a negative or non-finite group
    /// weight.
    pub fn build(self) -> Result<LeastSquaresLoss> {
        check_target("real_target", self.real_target)?;
        check_target("fake_target", self.fake_target)?;
        check_target("generator_target", self.generator_target)?;
        if self.real_target == self.fake_target {
            return Err(Error::InvalidOption {
                option: "fake_target",
                value: self.fake_target,
                expected: "a fake target different from the real target, such as 0 with 1",
            });
        }
        check_group_weight("real_weight", self.real_weight)?;
        check_group_weight("fake_weight", self.fake_weight)?;

        let discriminator = PairSpec {
            real_term: Term::Squared {
                target: self.real_target,
            },
            fake_term: Term::Squared {
                target: self.fake_target,
            },
            real_scale: 0.5 * self.real_weight,
            fake_scale: 0.5 * self.fake_weight,
            reduction: self.reduction,
            kernel: self.kernel,
            score: Score::Critic {
                boundary: 0.5 * (self.real_target + self.fake_target),
            },
            margins: None,
        };
        let generator = FakeSpec {
            term: Term::Squared {
                target: self.generator_target,
            },
            scale: 0.5,
            reduction: self.reduction,
            kernel: self.kernel,
        };
        Ok(LeastSquaresLoss {
            config: self,
            discriminator,
            generator,
        })
    }
}

fn check_target(option: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option,
            value,
            expected: "a finite target",
        })
    }
}

/// Least-squares GAN loss (Mao et al., 2017, "Least Squares Generative Adversarial Networks").
///
/// ```text
/// D loss  = ½·w_r·mean (r − b)² + ½·w_f·mean (f − a)²     (a = 0, b = 1 by default)
/// ∂/∂r    = w_r·(r − b)/N_r,   ∂/∂f = w_f·(f − a)/N_f
/// G loss  = ½·mean (f − c)²                              (c = 1 by default)
/// ∂/∂f    = (f − c)/N_f
/// ```
///
/// The outputs are raw scores, not logits. The squares need no stable rewrite: they are finite
/// for every finite input, an infinite output gives +∞ and NaN propagates. Unlike the
/// cross-entropy, the loss keeps pushing outputs that are on the correct side but far from their
/// target, which is what keeps the generator's gradient from vanishing. For monitoring, the
/// scores are the raw outputs and the decision boundary is (a + b)/2.
///
/// # Shapes
/// Any shape, for example `[B]`, `[B, 1]` or `[B, 1, H, W]`; the real and the fake batch may
/// differ. The loss is a rank-0 tensor of the logits' dtype.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{DiscriminatorLoss, GeneratorLoss, LeastSquaresLoss};
///
/// let real = Tensor::new(&[1.0f32, 0.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[0.0f32, 2.0], &Device::Cpu)?;
/// let loss = LeastSquaresLoss::new();
/// // Real: ½·(0 + 1)/2; fake: ½·(0 + 4)/2.
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d - 1.25).abs() < 1e-6);
/// // Generator: ½·(1 + 1)/2.
/// let g = loss.generator_loss(&fake)?.to_scalar::<f32>()?;
/// assert!((g - 0.5).abs() < 1e-6);
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeastSquaresLoss {
    config: LeastSquaresConfig,
    discriminator: PairSpec,
    generator: FakeSpec,
}

impl LeastSquaresLoss {
    /// Builds the standard loss: a = 0, b = 1, c = 1, mean.
    pub fn new() -> Self {
        Self::from_config(LeastSquaresConfig::default()).expect("the default options are valid")
    }

    /// Builds the loss from options; the same as [`LeastSquaresConfig::build`].
    ///
    /// # Errors
    /// As for [`LeastSquaresConfig::build`].
    pub fn from_config(config: LeastSquaresConfig) -> Result<Self> {
        config.build()
    }

    /// Returns the options this loss was built from.
    pub fn config(&self) -> &LeastSquaresConfig {
        &self.config
    }
}

impl Default for LeastSquaresLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl_single_term_loss!(LeastSquaresLoss);
