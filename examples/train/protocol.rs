//! Training setups: a quick default and two published protocols.

use clap::ValueEnum;

/// A named training setup (architecture, optimiser, batch, schedule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// A small setup that captures most ring modes in under a minute on one core.
    Quick,
    /// The setup of the VEEGAN and GDPP 2-D tables.
    Veegan,
    /// The setup of the PacGAN 2-D tables, without packing.
    Pacgan,
}

/// The activation of the discriminator's hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// A linear layer followed by ReLU.
    Relu,
    /// A maxout layer: the maximum over `pieces` linear pieces per unit.
    Maxout {
        /// Linear pieces per unit.
        pieces: usize,
    },
}

/// The source of the training samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSchedule {
    /// Fresh samples from the mixture for every batch.
    Fresh,
    /// A fixed training set of this many mixture samples, reshuffled every epoch.
    Fixed(usize),
}

/// Everything a protocol fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Dimension of the generator's Gaussian noise.
    pub noise_dim: usize,
    /// Widths of the generator's hidden layers.
    pub generator_hidden: Vec<usize>,
    /// Batch normalisation before each ReLU of the generator.
    pub generator_batch_norm: bool,
    /// Widths of the discriminator's hidden layers.
    pub discriminator_hidden: Vec<usize>,
    /// The discriminator's hidden activation.
    pub discriminator_activation: Activation,
    /// Adam learning rate, for both networks.
    pub learning_rate: f64,
    /// Adam β1.
    pub beta1: f64,
    /// Adam β2.
    pub beta2: f64,
    /// Samples per batch, real and fake each.
    pub batch_size: usize,
    /// Training iterations; one iteration is one discriminator step and one generator step.
    pub iterations: usize,
    /// The source of the training samples for the 2-D datasets.
    pub data: DataSchedule,
}

/// Samples in the PacGAN training set.
const PACGAN_TRAINING_SIZE: usize = 100_000;

/// Epochs of PacGAN training.
const PACGAN_EPOCHS: usize = 400;

impl Protocol {
    /// Returns the name used on the command line and in metrics.json.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Quick => "quick",
            Protocol::Veegan => "veegan",
            Protocol::Pacgan => "pacgan",
        }
    }

    /// Returns the setup of this protocol, before command-line overrides.
    pub fn setup(self) -> Setup {
        match self {
            Protocol::Quick => Setup {
                noise_dim: 16,
                generator_hidden: vec![128, 128],
                generator_batch_norm: false,
                discriminator_hidden: vec![128, 128],
                discriminator_activation: Activation::Relu,
                learning_rate: 1e-3,
                beta1: 0.5,
                beta2: 0.999,
                batch_size: 256,
                iterations: 8_000,
                data: DataSchedule::Fresh,
            },
            Protocol::Veegan => Setup {
                noise_dim: 256,
                generator_hidden: vec![128, 128],
                generator_batch_norm: false,
                discriminator_hidden: vec![128, 128],
                discriminator_activation: Activation::Relu,
                learning_rate: 1e-3,
                beta1: 0.5,
                beta2: 0.999,
                batch_size: 500,
                iterations: 100_000,
                data: DataSchedule::Fresh,
            },
            Protocol::Pacgan => {
                let batch_size = 100;
                Setup {
                    noise_dim: 2,
                    generator_hidden: vec![400; 4],
                    generator_batch_norm: true,
                    discriminator_hidden: vec![200; 3],
                    discriminator_activation: Activation::Maxout { pieces: 5 },
                    learning_rate: 1e-4,
                    beta1: 0.8,
                    beta2: 0.999,
                    batch_size,
                    iterations: PACGAN_EPOCHS * PACGAN_TRAINING_SIZE / batch_size,
                    data: DataSchedule::Fixed(PACGAN_TRAINING_SIZE),
                }
            }
        }
    }
}
