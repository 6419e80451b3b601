//! GAN discriminator and generator losses over [candle](https://github.com/huggingface/candle)
//! tensors.
//!
//! Every loss implements [`DiscriminatorLoss`] and [`GeneratorLoss`]. A discriminator loss takes
//! the discriminator's outputs on a real and a fake batch and returns a rank-0 tensor that
//! candle's autograd differentiates with respect to both; a generator loss takes the outputs on
//! the fake batch. Both run on every candle device and in f32, f64, f16 and bf16, where the half
//! types are computed in f32 and returned in their own dtype.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use gan_losses::{BceConfig, DiscriminatorLoss, GeneratorLoss};
//!
//! let device = Device::Cpu;
//! let real_logits = Tensor::new(&[[1.5f32], [0.3]], &device)?;
//! let fake_logits = Tensor::new(&[[-2.0f32], [0.1], [-0.4]], &device)?;
//!
//! let loss = BceConfig::default().with_label_smoothing(0.1).build()?;
//! let d_loss = loss.discriminator_loss(&real_logits, &fake_logits)?;
//! let g_loss = loss.generator_loss(&fake_logits)?;
//! assert_eq!(d_loss.dims(), &[] as &[usize]);
//! assert!(g_loss.to_scalar::<f32>()? > 0.0);
//! # Ok::<(), gan_losses::Error>(())
//! ```
//!
//! # Families
//! Binary cross-entropy ([`BceLoss`], [`WeightedBceLoss`]), hinge ([`HingeLoss`]), least squares
//! ([`LeastSquaresLoss`]), Wasserstein ([`WassersteinLoss`]) and the relativistic losses
//! ([`RsganLoss`], [`RaSganLoss`], [`RaLsganLoss`], [`RaHingeLoss`]). [`LossConfig`] chooses one
//! by name (`"lsgan".parse()`) or, with the `serde` feature, from a configuration file, and builds
//! an [`AnyLoss`]. [`FnLoss`] wraps closures and [`SumLoss`] adds weighted losses.
//!
//! # Conventions
//! - [`Reduction::Mean`] averages each batch over its own elements and adds the averages, so the
//!   real and the fake batch may differ in size. [`Reduction::Sum`] adds every element term.
//! - Per-sample weights and masks ([`Batch`]) have exactly the shape of their logits and are
//!   never broadcast. A weighted mean divides by the element count, as PyTorch does.
//! - Label smoothing is one-sided: the real target becomes 1 − α, the fake target stays 0, and
//!   generator targets are never smoothed.
//! - Bad input is an [`Error`] that names the value and the fix, never a panic.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod batch;
mod config;
mod error;
mod fused;
mod group;
mod loss;
pub mod losses;
mod options;
pub mod penalty;
mod spec;
mod summary;
mod term;

pub use batch::Batch;
pub use config::{AnyLoss, LossConfig};
pub use error::{Error, Result};
pub use loss::{DiscriminatorLoss, GanLoss, GeneratorLoss};
pub use losses::bce::{BceConfig, BceLoss, WeightedBceLoss};
pub use losses::custom::FnLoss;
pub use losses::hinge::{HingeConfig, HingeLoss};
pub use losses::least_squares::{LeastSquaresConfig, LeastSquaresLoss};
pub use losses::relativistic::{
    RaHingeConfig, RaHingeLoss, RaLsganConfig, RaLsganLoss, RaSganConfig, RaSganLoss, RsganConfig,
    RsganLoss,
};
pub use losses::sum::SumLoss;
pub use losses::wasserstein::{WassersteinConfig, WassersteinLoss};
pub use options::{GeneratorForm, Input, Kernel, Labels, Reduction};
pub use summary::{Summary, Terms};

/// The code blocks of README.md, run as documentation tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
