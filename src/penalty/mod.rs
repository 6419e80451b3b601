//! Gradient penalties: R1, R2, WGAN-GP and DRAGAN, with lazy regularisation and LeCam.

mod dragan;
mod gradient;
mod lazy;
mod lecam;
mod mode;
mod noise;
mod output;
mod target_norm;
mod wgan_gp;
mod zero_centered;

pub use dragan::{DraganConfig, DraganPenalty};
pub use lazy::LazyRegularization;
pub use lecam::{LeCamConfig, LeCamForm, LeCamOutput, LeCamRegularizer, LeCamState};
pub use mode::{double_backward_enabled, PenaltyMode};
pub use noise::UniformNoise;
pub use output::PenaltyOutput;
pub use target_norm::Side;
pub use wgan_gp::{WganGpConfig, WganGpPenalty};
pub use zero_centered::{ZeroCenteredConfig, ZeroCenteredPenalty};
