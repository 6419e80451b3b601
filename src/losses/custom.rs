//! A loss defined by two closures.

use std::fmt;

use candle_core::{DType, Tensor};

use crate::batch::{check_batch, check_pair, Batch, FAKE};
use crate::error::{Error, Result};
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::summary::{summarize, Score, Summary, Terms};

type DiscriminatorFn = dyn Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync;
type GeneratorFn = dyn Fn(&Tensor) -> Result<Tensor> + Send + Sync;

/// A loss from two closures: one maps the real and the fake outputs to the discriminator loss,
/// the other maps the fake outputs to the generator loss.
///
/// The closures receive the outputs as they are, after the crate's input checks (non-empty
/// float tensors on one device, of one dtype), and should return rank-0 tensors built with candle
/// ops so that autograd differentiates them. The closures see no per-sample weights or masks, so
/// batches that carry either are rejected rather than silently ignored.
///
/// # Terms and summary
/// A closure returns a reduced value, so there are no element terms:
/// [`discriminator_terms`](DiscriminatorLoss::discriminator_terms) returns
/// [`Error::Unsupported`]. The [`Summary`] holds the closure's loss, `real_term` and `fake_term`
/// are NaN because the closure does not split its value by batch, and the scores, accuracies
/// and Wasserstein estimate are those of the raw outputs with decision boundary 0.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{DiscriminatorLoss, FnLoss, GeneratorLoss};
///
/// // A Wasserstein critic written by hand.
/// let loss = FnLoss::new(
///     |real: &Tensor, fake: &Tensor| Ok((fake.mean_all()? - real.mean_all()?)?),
///     |fake: &Tensor| Ok(fake.mean_all()?.neg()?),
/// );
/// let real = Tensor::new(&[2.0f32, 4.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[1.0f32], &Device::Cpu)?;
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d + 2.0).abs() < 1e-6);
/// let g = loss.generator_loss(&fake)?.to_scalar::<f32>()?;
/// assert!((g + 1.0).abs() < 1e-6);
/// # Ok::<(), gan_losses::Error>(())
/// ```
pub struct FnLoss {
    discriminator: Box<DiscriminatorFn>,
    generator: Generator,
}

/// The generator closure, with or without the real outputs.
enum Generator {
    Fake(Box<GeneratorFn>),
    RealAndFake(Box<DiscriminatorFn>),
}

impl FnLoss {
    /// Wraps a discriminator closure `(real, fake) -> loss` and a generator closure
    /// `fake -> loss`.
    pub fn new<D, G>(discriminator: D, generator: G) -> Self
    where
        D: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
        G: Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
    {
        Self {
            discriminator: Box::new(discriminator),
            generator: Generator::Fake(Box::new(generator)),
        }
    }

    /// Wraps a discriminator closure `(real, fake) -> loss` and a generator closure
    /// `(real, fake) -> loss` that reads the real outputs too, as relativistic losses do. The
    /// loss then reports [`needs_real_logits`](GeneratorLoss::needs_real_logits).
    pub fn with_real_logits<D, G>(discriminator: D, generator: G) -> Self
    where
        D: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
        G: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    {
        Self {
            discriminator: Box::new(discriminator),
            generator: Generator::RealAndFake(Box::new(generator)),
        }
    }
}

impl fmt::Debug for FnLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnLoss").finish_non_exhaustive()
    }
}

/// Rejects a closure's value unless it is a rank-0 tensor.
fn check_rank_zero(value: Tensor) -> Result<Tensor> {
    if value.rank() == 0 {
        Ok(value)
    } else {
        Err(Error::NotScalar {
            loss: "FnLoss",
            shape: value.shape().clone(),
        })
    }
}

/// Rejects a batch with weights or a mask, which the closures would not see.
fn check_plain(batch: &Batch<'_>) -> Result<()> {
    if batch.weights().is_some() || batch.mask().is_some() {
        return Err(Error::Unsupported {
            loss: "FnLoss",
            operation: "per-sample weights or masks, because its closures receive only the \
                        logits: apply them inside the closures",
        });
    }
    Ok(())
}

impl DiscriminatorLoss for FnLoss {
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        check_pair(real, fake)?;
        check_plain(real)?;
        check_plain(fake)?;
        check_rank_zero((self.discriminator)(real.logits(), fake.logits())?)
    }

    fn discriminator_terms(&self, _real: &Batch<'_>, _fake: &Batch<'_>) -> Result<Terms> {
        Err(Error::Unsupported {
            loss: "FnLoss",
            operation: "element terms, because its closure returns a reduced value",
        })
    }

    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        let loss = self.discriminator_loss_with(real, fake)?.detach();
        let zero = loss.zeros_like()?;
        let mut summary = summarize(
            &zero,
            &zero,
            real,
            fake,
            Score::Critic { boundary: 0.0 },
            None,
        )?;
        summary.loss = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        summary.real_term = f64::NAN;
        summary.fake_term = f64::NAN;
        Ok(summary)
    }
}

impl GeneratorLoss for FnLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        match &self.generator {
            Generator::Fake(generator) => {
                check_batch(fake, FAKE)?;
                check_plain(fake)?;
                check_rank_zero(generator(fake.logits())?)
            }
            Generator::RealAndFake(generator) => {
                let real = real.ok_or(Error::MissingRealLogits { loss: "FnLoss" })?;
                check_pair(real, fake)?;
                check_plain(real)?;
                check_plain(fake)?;
                check_rank_zero(generator(real.logits(), fake.logits())?)
            }
        }
    }

    fn needs_real_logits(&self) -> bool {
        matches!(self.generator, Generator::RealAndFake(_))
    }
}
