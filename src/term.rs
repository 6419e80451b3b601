//! Element terms: the loss of one discriminator output, from which every loss is built.
//!
//! A loss applies one term to each element of the real batch and one to each element of the
//! fake batch, weights them and reduces them. Each term has a value and a derivative with respect
//! to its input; the plain path below evaluates the value with candle ops so that autograd
//! supplies the derivative, and the fused kernels evaluate both by hand.

use candle_core::Tensor;

use crate::error::Result;

/// Logs of probabilities are clamped here, as in PyTorch's `BCELoss`.
pub(crate) const LOG_CLAMP: f64 = -100.0;

/// Floor of p·(1 − p) in the derivative of the probability form, as in PyTorch's `BCELoss`.
pub(crate) const PROBABILITY_EPS: f64 = 1e-12;

/// The loss of one discriminator output `x`.
///
/// ```text
/// Bce { y }            value y·softplus(−x) + (1 − y)·softplus(x)      derivative σ(x) − y
/// BceProbability { y } value −y·max(ln p, −100) − (1 − y)·max(ln(1 − p), −100)
///                      derivative (p − y) / max(p·(1 − p), 1e-12)
/// Hinge { m, s }       value relu(m − s·x)                              derivative −s·[m − s·x > 0]
/// Squared { t }        value (x − t)²                                   derivative 2·(x − t)
/// Linear { s }         value s·x                                        derivative s
/// ```
///
/// `softplus(x) = max(x, 0) + ln(1 + e^(−|x|))` never overflows. For y = 1 and y = 0 only the
/// one softplus with a non-zero factor is evaluated, so an infinite logit on the correct side
/// gives 0, not 0·∞ = NaN. The hinge derivative is 0 at the kink.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Term {
    Bce { target: f64 },
    BceProbability { target: f64 },
    Hinge { margin: f64, sign: f64 },
    Squared { target: f64 },
    Linear { sign: f64 },
}

impl Term {
    /// Evaluates the term elementwise with candle ops; autograd gives the derivative.
    pub(crate) fn apply_plain(&self, x: &Tensor) -> Result<Tensor> {
        match *self {
            Term::Bce { target } => bce_plain(x, target),
            Term::BceProbability { target } => bce_probability_plain(x, target),
            Term::Hinge { margin, sign } => {
                let z = x.affine(-sign, margin)?;
                let zeros = z.zeros_like()?;
                // `le` is false for NaN, so NaN propagates, and the kink z = 0 takes the zero
                // branch, whose gradient is 0 (candle's relu would give 1 there).
                Ok(z.le(0.0)?.where_cond(&zeros, &z)?)
            }
            Term::Squared { target } => Ok(x.affine(1.0, -target)?.sqr()?),
            Term::Linear { sign } => Ok(x.affine(sign, 0.0)?),
        }
    }

    /// True when the input is a probability, which must lie in [0, 1].
    pub(crate) fn takes_probabilities(&self) -> bool {
        matches!(self, Term::BceProbability { .. })
    }
}

/// softplus(x) = max(x, 0) + ln(1 + e^(−|x|)), finite for every finite x.
fn softplus_plain(x: &Tensor) -> Result<Tensor> {
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    Ok((x.relu()? + tail)?)
}

fn bce_plain(x: &Tensor, target: f64) -> Result<Tensor> {
    if target == 1.0 {
        return softplus_plain(&x.neg()?);
    }
    if target == 0.0 {
        return softplus_plain(x);
    }
    let positive = softplus_plain(&x.neg()?)?.affine(target, 0.0)?;
    let negative = softplus_plain(x)?.affine(1.0 - target, 0.0)?;
    Ok((positive + negative)?)
}

/// The probability form with PyTorch's clamped logs. Autograd of the clamp would give 0·∞ = NaN
/// at p = 0 or 1, so the value is computed on detached input and the derivative
/// (p − y)/max(p(1 − p), 1e-12) is attached as `value + (p − detach(p))·derivative`, which has
/// that value and that gradient.
fn bce_probability_plain(p: &Tensor, target: f64) -> Result<Tensor> {
    let fixed = p.detach();
    let log_p = fixed.log()?.maximum(LOG_CLAMP)?;
    let log_q = fixed.affine(-1.0, 1.0)?.log()?.maximum(LOG_CLAMP)?;
    let value = (log_p.affine(-target, 0.0)? + log_q.affine(target - 1.0, 0.0)?)?;

    let variance = (&fixed * fixed.affine(-1.0, 1.0)?)?.maximum(PROBABILITY_EPS)?;
    let derivative = fixed.affine(1.0, -target)?.div(&variance)?;
    let zero_with_gradient = (p - &fixed)?;
    Ok((value + zero_with_gradient.mul(&derivative)?)?)
}
