//! A weighted sum of losses.

use std::fmt;

use candle_core::Tensor;

use crate::batch::Batch;
use crate::error::Result;
use crate::loss::{DiscriminatorLoss, GanLoss, GeneratorLoss};
use crate::options::check_group_weight;
use crate::summary::{Summary, Terms};

type Part = (f64, Box<dyn GanLoss + Send + Sync>);

/// A weighted sum of losses: Σ wᵢ·Lᵢ for the discriminator and for the generator.
///
/// Each part sees the same batches with their weights and masks. The sum holds at least one
/// part, and every weight is finite and non-negative. Gradients are the weighted sums of the
/// parts' gradients.
///
/// # Terms and summary
/// [`discriminator_terms`](DiscriminatorLoss::discriminator_terms) returns Σ wᵢ·termsᵢ for each
/// batch, and fails when a part has no element terms. The relation between the terms and the
/// loss described on [`Terms`] holds when every part uses one reduction. In the [`Summary`],
/// `loss`, `real_term` and `fake_term` are the weighted sums of the parts' figures; the scores,
/// accuracies, sign mean, inside-margin fraction and Wasserstein estimate are those of the first
/// part, since the parts may read the outputs differently (σ of logits, raw critic scores).
///
/// The generator loss reads the real batch when any part does.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{DiscriminatorLoss, HingeLoss, LeastSquaresLoss, SumLoss};
///
/// let real = Tensor::new(&[0.5f32, 2.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[0.0f32, -2.0], &Device::Cpu)?;
/// let loss = SumLoss::new(1.0, HingeLoss::new())?.with(0.5, LeastSquaresLoss::new())?;
/// let hinge = HingeLoss::new().discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// let lsgan = LeastSquaresLoss::new().discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// let total = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((total - (hinge + 0.5 * lsgan)).abs() < 1e-6);
/// # Ok::<(), gan_losses::Error>(())
/// ```
pub struct SumLoss {
    first: Part,
    rest: Vec<Part>,
}

impl SumLoss {
    /// Starts a sum with one weighted loss.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a negative or non-finite
    /// weight.
    pub fn new(weight: f64, loss: impl GanLoss + Send + Sync + 'static) -> Result<Self> {
        check_group_weight("weight", weight)?;
        Ok(Self {
            first: (weight, Box::new(loss)),
            rest: Vec::new(),
        })
    }

    /// Adds a weighted loss.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a negative or non-finite
    /// weight.
    pub fn with(self, weight: f64, loss: impl GanLoss + Send + Sync + 'static) -> Result<Self> {
        self.with_boxed(weight, Box::new(loss))
    }

    /// Adds a weighted loss that is already boxed.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a negative or non-finite
    /// weight.
    pub fn with_boxed(mut self, weight: f64, loss: Box<dyn GanLoss + Send + Sync>) -> Result<Self> {
        check_group_weight("weight", weight)?;
        self.rest.push((weight, loss));
        Ok(self)
    }

    /// The weights of the parts, in order.
    pub fn weights(&self) -> Vec<f64> {
        self.parts().map(|(weight, _)| *weight).collect()
    }

    fn parts(&self) -> impl Iterator<Item = &Part> {
        std::iter::once(&self.first).chain(&self.rest)
    }

    /// Adds the weighted values of every part. A part of weight 0 is skipped rather than
    /// multiplied, so that an infinite value of it cannot make the sum 0·∞ = NaN.
    fn weighted_sum<T: Weighted>(&self, value: impl Fn(&dyn GanLoss) -> Result<T>) -> Result<T> {
        let mut total: Option<T> = None;
        for (weight, loss) in self.parts() {
            if *weight == 0.0 {
                continue;
            }
            let part = value(loss.as_ref())?.scaled(*weight)?;
            total = Some(match total {
                Some(total) => total.plus(&part)?,
                None => part,
            });
        }

        match total {
            Some(total) => Ok(total),
            None => value(self.first.1.as_ref())?.zeroed(),
        }
    }
}

/// A value that parts of a [`SumLoss`] contribute: a loss tensor or a pair of term tensors.
trait Weighted: Sized {
    fn scaled(self, weight: f64) -> Result<Self>;
    fn plus(self, other: &Self) -> Result<Self>;
    fn zeroed(self) -> Result<Self>;
}

impl Weighted for Tensor {
    fn scaled(self, weight: f64) -> Result<Self> {
        Ok(self.affine(weight, 0.0)?)
    }

    fn plus(self, other: &Self) -> Result<Self> {
        Ok(self.add(other)?)
    }

    fn zeroed(self) -> Result<Self> {
        Ok(self.zeros_like()?)
    }
}

impl Weighted for Terms {
    fn scaled(self, weight: f64) -> Result<Self> {
        Ok(Terms {
            real: self.real.scaled(weight)?,
            fake: self.fake.scaled(weight)?,
        })
    }

    fn plus(self, other: &Self) -> Result<Self> {
        Ok(Terms {
            real: self.real.plus(&other.real)?,
            fake: self.fake.plus(&other.fake)?,
        })
    }

    fn zeroed(self) -> Result<Self> {
        Ok(Terms {
            real: self.real.zeroed()?,
            fake: self.fake.zeroed()?,
        })
    }
}

impl fmt::Debug for SumLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SumLoss")
            .field("weights", &self.weights())
            .finish_non_exhaustive()
    }
}

impl DiscriminatorLoss for SumLoss {
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        self.weighted_sum(|loss| loss.discriminator_loss_with(real, fake))
    }

    fn discriminator_terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        self.weighted_sum(|loss| loss.discriminator_terms(real, fake))
    }

    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        let (weight, loss) = &self.first;
        let mut summary = loss.discriminator_summary(real, fake)?;
        summary.loss *= weight;
        summary.real_term *= weight;
        summary.fake_term *= weight;
        for (weight, loss) in &self.rest {
            let part = loss.discriminator_summary(real, fake)?;
            summary.loss += weight * part.loss;
            summary.real_term += weight * part.real_term;
            summary.fake_term += weight * part.fake_term;
        }
        Ok(summary)
    }
}

impl GeneratorLoss for SumLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        self.weighted_sum(|loss| loss.generator_loss_with(real, fake))
    }

    fn needs_real_logits(&self) -> bool {
        self.parts().any(|(_, loss)| loss.needs_real_logits())
    }
}
