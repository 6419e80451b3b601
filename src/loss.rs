//! The discriminator and generator loss traits.

use candle_core::Tensor;

use crate::batch::Batch;
use crate::error::Result;
use crate::summary::{Summary, Terms};

/// A discriminator loss: a rank-0 tensor from the discriminator's outputs on a real and a fake
/// batch, differentiable with respect to both.
///
/// Implementors provide the three methods that take [`Batch`]es (outputs with optional
/// per-sample weights and a mask); [`discriminator_loss`](Self::discriminator_loss) is the
/// shorthand for plain outputs. The real and the fake batch may differ in size.
pub trait DiscriminatorLoss {
    /// Computes the loss of the discriminator on weighted or masked batches.
    ///
    /// # Errors
    /// Invalid input (see [`Error`](crate::Error)): an empty batch, a non-float dtype, batches
    /// on different devices or of different dtypes, weights or masks not of their logits' shape,
    /// negative or non-finite weights.
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor>;

    /// Computes the unreduced element terms of the real and the fake batch.
    ///
    /// # Errors
    /// As for [`discriminator_loss_with`](Self::discriminator_loss_with).
    fn discriminator_terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms>;

    /// Computes detached monitoring figures: each term, mean D(x) and D(G(z)), accuracies.
    ///
    /// # Errors
    /// As for [`discriminator_loss_with`](Self::discriminator_loss_with).
    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary>;

    /// Computes the loss and its detached summary together.
    ///
    /// On CPU, the losses built on one element term per batch (BCE, weighted BCE, hinge, least
    /// squares, Wasserstein) take both from one pass over each batch. A training loop that logs
    /// every step then pays no extra pass for the summary. Other losses compute the two
    /// separately.
    ///
    /// # Errors
    /// As for [`discriminator_loss_with`](Self::discriminator_loss_with).
    fn discriminator_loss_and_summary(
        &self,
        real: &Batch<'_>,
        fake: &Batch<'_>,
    ) -> Result<(Tensor, Summary)> {
        let loss = self.discriminator_loss_with(real, fake)?;
        let summary = self.discriminator_summary(real, fake)?;
        Ok((loss, summary))
    }

    /// Computes the loss of the discriminator from its outputs on a real and a fake batch.
    ///
    /// # Errors
    /// As for [`discriminator_loss_with`](Self::discriminator_loss_with).
    fn discriminator_loss(&self, real_logits: &Tensor, fake_logits: &Tensor) -> Result<Tensor> {
        self.discriminator_loss_with(&Batch::new(real_logits), &Batch::new(fake_logits))
    }
}

/// A generator loss, paired with a discriminator loss: a rank-0 tensor from the discriminator's
/// outputs on generated samples, differentiable with respect to them.
///
/// Relativistic losses also read the discriminator's outputs on real samples; they report
/// [`needs_real_logits`](Self::needs_real_logits) and take the real batch through
/// [`generator_loss_with`](Self::generator_loss_with).
pub trait GeneratorLoss {
    /// Computes the loss of the generator, with the real batch where the loss reads it.
    ///
    /// # Errors
    /// [`Error::MissingRealLogits`](crate::Error::MissingRealLogits) when the loss needs the
    /// real batch and `real` is `None`, and the input errors of
    /// [`DiscriminatorLoss::discriminator_loss_with`].
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor>;

    /// True when the loss reads the real batch (the relativistic losses).
    fn needs_real_logits(&self) -> bool {
        false
    }

    /// Computes the loss of the generator from the discriminator's outputs on fake samples.
    ///
    /// # Errors
    /// As for [`generator_loss_with`](Self::generator_loss_with).
    fn generator_loss(&self, fake_logits: &Tensor) -> Result<Tensor> {
        self.generator_loss_with(None, &Batch::new(fake_logits))
    }
}

/// A loss that provides both the discriminator and the generator side, as a trait object.
///
/// Every type that implements [`DiscriminatorLoss`] and [`GeneratorLoss`] implements it, so
/// `Box<dyn GanLoss + Send + Sync>` holds any loss of this crate or of the caller.
pub trait GanLoss: DiscriminatorLoss + GeneratorLoss {}

impl<T: DiscriminatorLoss + GeneratorLoss + ?Sized> GanLoss for T {}
