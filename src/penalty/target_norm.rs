//! The penalty on the distance of the gradient norm from a target, shared by WGAN-GP and DRAGAN.

use candle_core::Tensor;

use crate::error::{Error, Result};

/// Choice of the gradient-norm deviations from the target that a penalty charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Side {
    /// (‖g‖ − t)²: norms below and above the target.
    #[default]
    TwoSided,
    /// max(0, ‖g‖ − t)²: only norms above the target, the one-sided form that Gulrajani et al.
    /// also tried.
    OneSided,
}

/// λ·meanᵢ φ(√(sᵢ + ε) − t) with φ(d) = d² or max(0, d)², on squared norms s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TargetNorm {
    pub lambda: f64,
    pub target: f64,
    pub side: Side,
    pub epsilon: f64,
}

impl TargetNorm {
    /// Checks λ ≥ 0, t ≥ 0 and ε > 0, all finite.
    pub(crate) fn check(&self) -> Result<()> {
        check_non_negative(
            "lambda",
            self.lambda,
            "a finite, non-negative weight such as 10.0",
        )?;
        check_non_negative(
            "target",
            self.target,
            "a finite, non-negative norm such as 1.0",
        )?;
        // ε = 0 would make the gradient of √s at s = 0 a NaN for a sample with a zero input
        // gradient (a dead-ReLU critic), so it must be positive.
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::InvalidOption {
                option: "epsilon",
                value: self.epsilon,
                expected: "a finite, positive offset such as 1e-12",
            });
        }
        Ok(())
    }

    /// Maps squared norms `[B]` to the rank-0 penalty.
    pub(crate) fn apply(&self, squared: &Tensor) -> Result<Tensor> {
        let norms = squared.affine(1.0, self.epsilon)?.sqrt()?;
        let deviation = norms.affine(1.0, -self.target)?;
        let deviation = match self.side {
            Side::TwoSided => deviation,
            Side::OneSided => deviation.relu()?,
        };
        Ok(deviation.sqr()?.mean_all()?.affine(self.lambda, 0.0)?)
    }
}

fn check_non_negative(option: &'static str, value: f64, expected: &'static str) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option,
            value,
            expected,
        })
    }
}
