//! Losses chosen by configuration: [`LossConfig`] names a loss and its options, and
//! [`AnyLoss`] is the built loss.

use std::fmt;
use std::str::FromStr;

use candle_core::Tensor;

use crate::batch::Batch;
use crate::error::{Error, Result};
use crate::loss::{DiscriminatorLoss, GeneratorLoss};
use crate::losses::bce::{BceConfig, BceLoss, WeightedBceLoss};
use crate::losses::hinge::{HingeConfig, HingeLoss};
use crate::losses::least_squares::{LeastSquaresConfig, LeastSquaresLoss};
use crate::losses::relativistic::{
    RaHingeConfig, RaHingeLoss, RaLsganConfig, RaLsganLoss, RaSganConfig, RaSganLoss, RsganConfig,
    RsganLoss,
};
use crate::losses::wasserstein::{WassersteinConfig, WassersteinLoss};
use crate::options::GeneratorForm;
use crate::summary::{Summary, Terms};

/// A built-in loss and its options, for choosing the loss at run time.
///
/// [`FromStr`] parses a loss name into its default options, case-insensitively and with `_` or
/// a space read as `-`. The canonical names are [`LossConfig::NAMES`]; common aliases are also
/// accepted:
///
/// | name | aliases | loss |
/// | --- | --- | --- |
/// | `bce` | `ns`, `non-saturating`, `gan`, `sgan`, `vanilla` | [`BceLoss`], non-saturating |
/// | `saturating` | `minimax`, `saturating-bce` | [`BceLoss`], saturating |
/// | `weighted-bce` | `wbce` | [`WeightedBceLoss`] |
/// | `hinge` | | [`HingeLoss`] |
/// | `lsgan` | `least-squares`, `ls` | [`LeastSquaresLoss`] |
/// | `wgan` | `wasserstein` | [`WassersteinLoss`] |
/// | `rsgan` | `relativistic` | [`RsganLoss`] |
/// | `rasgan` | `ra-sgan`, `relativistic-average` | [`RaSganLoss`] |
/// | `ralsgan` | `ra-lsgan` | [`RaLsganLoss`] |
/// | `ra-hinge` | `rahinge`, `relativistic-hinge` | [`RaHingeLoss`] |
///
/// [`Display`](fmt::Display) writes the canonical name, which parses back to the same variant
/// (and, for default options, to an equal value). With the `serde` feature the enum is tagged by
/// the canonical name in a `loss` field, next to the options:
/// `{"loss": "hinge", "real_margin": 2.0}`. Missing options take their defaults and unknown
/// options are an error. The name `saturating` is a shorthand of the parser only: in a
/// configuration the saturating BCE loss is `{"loss": "bce", "generator": "saturating"}`.
///
/// # Example
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::{DiscriminatorLoss, LossConfig};
///
/// let config: LossConfig = "LSGAN".parse()?;
/// assert_eq!(config.to_string(), "lsgan");
/// let loss = config.build()?;
/// let real = Tensor::new(&[1.0f32], &Device::Cpu)?;
/// let fake = Tensor::new(&[1.0f32], &Device::Cpu)?;
/// // ½·0 + ½·1.
/// let d = loss.discriminator_loss(&real, &fake)?.to_scalar::<f32>()?;
/// assert!((d - 0.5).abs() < 1e-6);
///
/// let unknown = "lsgan2".parse::<LossConfig>();
/// assert!(unknown.unwrap_err().to_string().contains("ra-hinge"));
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "loss"))]
#[non_exhaustive]
pub enum LossConfig {
    /// Binary cross-entropy, [`BceLoss`]; the name `saturating` selects its saturating
    /// generator.
    #[cfg_attr(feature = "serde", serde(rename = "bce"))]
    Bce(BceConfig),
    /// Weighted binary cross-entropy, [`WeightedBceLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "weighted-bce"))]
    WeightedBce(BceConfig),
    /// Hinge, [`HingeLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "hinge"))]
    Hinge(HingeConfig),
    /// Least squares, [`LeastSquaresLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "lsgan"))]
    LeastSquares(LeastSquaresConfig),
    /// Wasserstein critic, [`WassersteinLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "wgan"))]
    Wasserstein(WassersteinConfig),
    /// Paired relativistic standard GAN, [`RsganLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "rsgan"))]
    Rsgan(RsganConfig),
    /// Relativistic average standard GAN, [`RaSganLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "rasgan"))]
    RaSgan(RaSganConfig),
    /// Relativistic average least squares, [`RaLsganLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "ralsgan"))]
    RaLsgan(RaLsganConfig),
    /// Relativistic average hinge, [`RaHingeLoss`].
    #[cfg_attr(feature = "serde", serde(rename = "ra-hinge"))]
    RaHinge(RaHingeConfig),
}

/// Aliases accepted by [`FromStr`], after lowercasing and reading `_` and spaces as `-`.
const ALIASES: &[(&str, &str)] = &[
    ("ns", "bce"),
    ("non-saturating", "bce"),
    ("nonsaturating", "bce"),
    ("gan", "bce"),
    ("sgan", "bce"),
    ("vanilla", "bce"),
    ("minimax", "saturating"),
    ("saturating-bce", "saturating"),
    ("wbce", "weighted-bce"),
    ("least-squares", "lsgan"),
    ("ls", "lsgan"),
    ("wasserstein", "wgan"),
    ("relativistic", "rsgan"),
    ("ra-sgan", "rasgan"),
    ("relativistic-average", "rasgan"),
    ("ra-lsgan", "ralsgan"),
    ("rahinge", "ra-hinge"),
    ("relativistic-hinge", "ra-hinge"),
];

impl LossConfig {
    /// The canonical loss names, as [`Display`](fmt::Display) writes them.
    pub const NAMES: &'static [&'static str] = &[
        "bce",
        "saturating",
        "weighted-bce",
        "hinge",
        "lsgan",
        "wgan",
        "rsgan",
        "rasgan",
        "ralsgan",
        "ra-hinge",
    ];

    /// The canonical name of the loss: `saturating` for BCE with the saturating generator.
    pub fn name(&self) -> &'static str {
        match self {
            LossConfig::Bce(config) if config.generator == GeneratorForm::Saturating => {
                "saturating"
            }
            LossConfig::Bce(_) => "bce",
            LossConfig::WeightedBce(_) => "weighted-bce",
            LossConfig::Hinge(_) => "hinge",
            LossConfig::LeastSquares(_) => "lsgan",
            LossConfig::Wasserstein(_) => "wgan",
            LossConfig::Rsgan(_) => "rsgan",
            LossConfig::RaSgan(_) => "rasgan",
            LossConfig::RaLsgan(_) => "ralsgan",
            LossConfig::RaHinge(_) => "ra-hinge",
        }
    }

    /// Checks the options and builds the loss.
    ///
    /// # Errors
    /// The errors of the variant's `build`, such as
    /// [`Error::InvalidOption`] for an option out of range.
    pub fn build(&self) -> Result<AnyLoss> {
        Ok(match *self {
            LossConfig::Bce(config) => AnyLoss::Bce(config.build()?),
            LossConfig::WeightedBce(config) => {
                AnyLoss::WeightedBce(WeightedBceLoss::from_config(config)?)
            }
            LossConfig::Hinge(config) => AnyLoss::Hinge(config.build()?),
            LossConfig::LeastSquares(config) => AnyLoss::LeastSquares(config.build()?),
            LossConfig::Wasserstein(config) => AnyLoss::Wasserstein(config.build()?),
            LossConfig::Rsgan(config) => AnyLoss::Rsgan(config.build()?),
            LossConfig::RaSgan(config) => AnyLoss::RaSgan(config.build()?),
            LossConfig::RaLsgan(config) => AnyLoss::RaLsgan(config.build()?),
            LossConfig::RaHinge(config) => AnyLoss::RaHinge(config.build()?),
        })
    }

    fn from_canonical(name: &str) -> Option<Self> {
        Some(match name {
            "bce" => LossConfig::Bce(BceConfig::default()),
            "saturating" => {
                LossConfig::Bce(BceConfig::default().with_generator(GeneratorForm::Saturating))
            }
            "weighted-bce" => LossConfig::WeightedBce(BceConfig::default()),
            "hinge" => LossConfig::Hinge(HingeConfig::default()),
            "lsgan" => LossConfig::LeastSquares(LeastSquaresConfig::default()),
            "wgan" => LossConfig::Wasserstein(WassersteinConfig::default()),
            "rsgan" => LossConfig::Rsgan(RsganConfig::default()),
            "rasgan" => LossConfig::RaSgan(RaSganConfig::default()),
            "ralsgan" => LossConfig::RaLsgan(RaLsganConfig::default()),
            "ra-hinge" => LossConfig::RaHinge(RaHingeConfig::default()),
            _ => return None,
        })
    }
}

impl FromStr for LossConfig {
    type Err = Error;

    /// Parses a loss name or alias into the loss's default options.
    ///
    /// # Errors
    /// [`Error::UnknownLoss`], listing the canonical names, for a name that is neither.
    fn from_str(name: &str) -> Result<Self> {
        let normalized: String = name
            .trim()
            .chars()
            .map(|c| match c {
                '_' | ' ' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let canonical = ALIASES
            .iter()
            .find(|(alias, _)| *alias == normalized)
            .map_or(normalized.as_str(), |(_, canonical)| canonical);
        Self::from_canonical(canonical).ok_or_else(|| Error::UnknownLoss {
            name: name.to_string(),
            known: Self::NAMES.join(", "),
        })
    }
}

impl fmt::Display for LossConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! impl_from_config {
    ($($config:ty => $variant:ident),* $(,)?) => {
        $(
            impl From<$config> for LossConfig {
                fn from(config: $config) -> Self {
                    LossConfig::$variant(config)
                }
            }
        )*
    };
}

impl_from_config! {
    BceConfig => Bce,
    HingeConfig => Hinge,
    LeastSquaresConfig => LeastSquares,
    WassersteinConfig => Wasserstein,
    RsganConfig => Rsgan,
    RaSganConfig => RaSgan,
    RaLsganConfig => RaLsgan,
    RaHingeConfig => RaHinge,
}

/// Any built-in loss, as built by [`LossConfig::build`]; it implements both loss traits by
/// forwarding to the loss it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum AnyLoss {
    /// [`BceLoss`].
    Bce(BceLoss),
    /// [`WeightedBceLoss`].
    WeightedBce(WeightedBceLoss),
    /// [`HingeLoss`].
    Hinge(HingeLoss),
    /// [`LeastSquaresLoss`].
    LeastSquares(LeastSquaresLoss),
    /// [`WassersteinLoss`].
    Wasserstein(WassersteinLoss),
    /// [`RsganLoss`].
    Rsgan(RsganLoss),
    /// [`RaSganLoss`].
    RaSgan(RaSganLoss),
    /// [`RaLsganLoss`].
    RaLsgan(RaLsganLoss),
    /// [`RaHingeLoss`].
    RaHinge(RaHingeLoss),
}

/// Calls `$body` with `$loss` bound to the loss inside `$any`.
macro_rules! dispatch {
    ($any:expr, $loss:ident => $body:expr) => {
        match $any {
            AnyLoss::Bce($loss) => $body,
            AnyLoss::WeightedBce($loss) => $body,
            AnyLoss::Hinge($loss) => $body,
            AnyLoss::LeastSquares($loss) => $body,
            AnyLoss::Wasserstein($loss) => $body,
            AnyLoss::Rsgan($loss) => $body,
            AnyLoss::RaSgan($loss) => $body,
            AnyLoss::RaLsgan($loss) => $body,
            AnyLoss::RaHinge($loss) => $body,
        }
    };
}

impl DiscriminatorLoss for AnyLoss {
    fn discriminator_loss_with(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        dispatch!(self, loss => loss.discriminator_loss_with(real, fake))
    }

    fn discriminator_terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        dispatch!(self, loss => loss.discriminator_terms(real, fake))
    }

    fn discriminator_summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        dispatch!(self, loss => loss.discriminator_summary(real, fake))
    }

    fn discriminator_loss_and_summary(
        &self,
        real: &Batch<'_>,
        fake: &Batch<'_>,
    ) -> Result<(Tensor, Summary)> {
        dispatch!(self, loss => loss.discriminator_loss_and_summary(real, fake))
    }
}

impl GeneratorLoss for AnyLoss {
    fn generator_loss_with(&self, real: Option<&Batch<'_>>, fake: &Batch<'_>) -> Result<Tensor> {
        dispatch!(self, loss => loss.generator_loss_with(real, fake))
    }

    fn needs_real_logits(&self) -> bool {
        dispatch!(self, loss => loss.needs_real_logits())
    }
}

macro_rules! impl_from_loss {
    ($($loss:ty => $variant:ident),* $(,)?) => {
        $(
            impl From<$loss> for AnyLoss {
                fn from(loss: $loss) -> Self {
                    AnyLoss::$variant(loss)
                }
            }
        )*
    };
}

impl_from_loss! {
    BceLoss => Bce,
    WeightedBceLoss => WeightedBce,
    HingeLoss => Hinge,
    LeastSquaresLoss => LeastSquares,
    WassersteinLoss => Wasserstein,
    RsganLoss => Rsgan,
    RaSganLoss => RaSgan,
    RaLsganLoss => RaLsgan,
    RaHingeLoss => RaHinge,
}
