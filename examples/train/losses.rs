//! The losses selectable with `--loss`, each built as one boxed object that serves both steps.

use clap::ValueEnum;
use gan_losses::{BceLoss, DiscriminatorLoss, GeneratorLoss, HingeLoss, WeightedBceLoss};

/// A loss that serves both the discriminator step and the generator step.
pub trait GanLoss: DiscriminatorLoss + GeneratorLoss {}

impl<T: DiscriminatorLoss + GeneratorLoss> GanLoss for T {}

/// The loss names accepted by `--loss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossName {
    /// Binary cross-entropy with the non-saturating generator loss.
    Bce,
    /// Hinge discriminator loss with margin 1; generator loss −mean D(G(z)).
    Hinge,
    /// Binary cross-entropy with factors on the real and the fake term of the discriminator.
    WeightedBce,
}

impl LossName {
    /// Returns the name used on the command line and in metrics.json.
    pub fn name(self) -> &'static str {
        match self {
            LossName::Bce => "bce",
            LossName::Hinge => "hinge",
            LossName::WeightedBce => "weighted-bce",
        }
    }

    /// Builds the loss; `real_weight` and `fake_weight` are read only by weighted-bce.
    ///
    /// # Errors
    /// When the library rejects an option, for example a negative weight.
    pub fn build(
        self,
        real_weight: f64,
        fake_weight: f64,
    ) -> Result<Box<dyn GanLoss>, gan_losses::Error> {
        Ok(match self {
            LossName::Bce => Box::new(BceLoss::new()),
            LossName::Hinge => Box::new(HingeLoss::new()),
            LossName::WeightedBce => Box::new(WeightedBceLoss::new(real_weight, fake_weight)?),
        })
    }
}
