//! Options shared by the losses, each one a type.

use crate::error::{Error, Result};

/// Reduction of the element terms of a loss to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Reduction {
    /// Each group (real, fake) is averaged over its own elements, then the groups are added, so
    /// the real and the fake batch may differ in size. With per-sample weights the divisor is
    /// still the element count, as in PyTorch; with a mask it is the count of included elements.
    #[default]
    Mean,
    /// The sum of all weighted element terms.
    Sum,
}

/// Kind of discriminator output that a logit loss receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Input {
    /// Raw logits, the numerically stable choice.
    #[default]
    Logits,
    /// Probabilities in [0, 1], after a sigmoid. Logs are clamped at -100, as in PyTorch's
    /// `BCELoss`, so a probability of exactly 0 or 1 gives a finite loss.
    Probabilities,
}

/// The targets of a binary cross-entropy discriminator loss.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Labels {
    /// Real target 1, fake target 0.
    #[default]
    Hard,
    /// One-sided label smoothing by α in [0, 1): real target 1 − α, fake target 0.
    OneSidedSmoothing(f64),
    /// Explicit real and fake targets, each in [0, 1].
    Explicit {
        /// Target of the real batch.
        real: f64,
        /// Target of the fake batch.
        fake: f64,
    },
}

impl Labels {
    /// Returns the (real, fake) targets after checking them.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a smoothing outside [0, 1) or a target outside [0, 1].
    pub fn targets(&self) -> Result<(f64, f64)> {
        match *self {
            Labels::Hard => Ok((1.0, 0.0)),
            Labels::OneSidedSmoothing(alpha) => {
                if !(0.0..1.0).contains(&alpha) {
                    return Err(Error::InvalidOption {
                        option: "label_smoothing",
                        value: alpha,
                        expected: "a smoothing in [0, 1), such as 0.1",
                    });
                }
                Ok((1.0 - alpha, 0.0))
            }
            Labels::Explicit { real, fake } => {
                check_target("real_target", real)?;
                check_target("fake_target", fake)?;
                Ok((real, fake))
            }
        }
    }
}

fn check_target(option: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option,
            value,
            expected: "a target in [0, 1]",
        })
    }
}

/// The form of a generator loss where the literature has two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum GeneratorForm {
    /// Maximise log D(G(z)): strong gradients while the discriminator wins (Goodfellow et al.,
    /// 2014, section 3).
    #[default]
    NonSaturating,
    /// Minimise log(1 − D(G(z))), the minimax objective, whose gradient vanishes when the
    /// discriminator rejects the fakes confidently.
    Saturating,
}

/// Implementation that reduces the element terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Kernel {
    /// A fused custom op where one exists for the device, else the plain path.
    #[default]
    Fused,
    /// Plain candle ops on every device; the reference for the fused kernels.
    Plain,
}

/// Checks that a group weight is finite and non-negative.
pub(crate) fn check_group_weight(option: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option,
            value,
            expected: "a finite, non-negative weight",
        })
    }
}

/// Checks that a margin is positive and finite.
pub(crate) fn check_margin(option: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option,
            value,
            expected: "a positive, finite margin such as 1.0",
        })
    }
}
