//! Element terms as kernels: the value and the derivative of each [`Term`], written side by
//! side, with the term's parameters fixed before the loop so that each loop is monomorphised.

use super::math::Real;
use crate::term::{Term, LOG_CLAMP, PROBABILITY_EPS};

/// The value and the derivative with respect to x of one element term.
pub(crate) trait ElementKernel<T: Real>: Copy + Send + Sync {
    /// ℓ(x).
    fn value<const FMA: bool>(&self, x: T) -> T;

    /// ∂ℓ/∂x.
    fn derivative<const FMA: bool>(&self, x: T) -> T;
}

/// max(x, 0) with NaN mapped to 0; callers add a NaN term so that NaN still propagates.
#[inline(always)]
fn positive_part<T: Real>(x: T) -> T {
    if x > T::ZERO {
        x
    } else {
        T::ZERO
    }
}

/// σ(x) and σ(−x) from e = e^(−|x|), each without cancellation.
#[inline(always)]
fn sigmoid_pair<T: Real, const FMA: bool>(x: T) -> (T, T) {
    let e = x.exp_neg_abs::<FMA>();
    let large = T::ONE / (T::ONE + e);
    let small = e * large;
    if x >= T::ZERO {
        (large, small)
    } else {
        (small, large)
    }
}

/// BCE with target 1: softplus(−x) = max(−x, 0) + ln(1 + e^(−|x|)); derivative σ(x) − 1 = −σ(−x).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BceTargetOne;

impl<T: Real> ElementKernel<T> for BceTargetOne {
    #[inline(always)]
    fn value<const FMA: bool>(&self, x: T) -> T {
        positive_part(-x) + x.exp_neg_abs::<FMA>().ln_1p_unit::<FMA>()
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, x: T) -> T {
        -sigmoid_pair::<T, FMA>(x).1
    }
}

/// BCE with target 0: softplus(x) = max(x, 0) + ln(1 + e^(−|x|)); derivative σ(x).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BceTargetZero;

impl<T: Real> ElementKernel<T> for BceTargetZero {
    #[inline(always)]
    fn value<const FMA: bool>(&self, x: T) -> T {
        positive_part(x) + x.exp_neg_abs::<FMA>().ln_1p_unit::<FMA>()
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, x: T) -> T {
        sigmoid_pair::<T, FMA>(x).0
    }
}

/// BCE with a target y strictly between 0 and 1: y·softplus(−x) + (1 − y)·softplus(x)
/// = y·max(−x, 0) + (1 − y)·max(x, 0) + ln(1 + e^(−|x|)), one logarithm for both softplus
/// terms; derivative σ(x) − y. Both factors are non-zero, so ±∞ gives +∞.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BceSoftTarget<T> {
    pub target: T,
}

impl<T: Real> ElementKernel<T> for BceSoftTarget<T> {
    #[inline(always)]
    fn value<const FMA: bool>(&self, x: T) -> T {
        let y = self.target;
        let linear = y * positive_part(-x) + (T::ONE - y) * positive_part(x);
        linear + x.exp_neg_abs::<FMA>().ln_1p_unit::<FMA>()
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, x: T) -> T {
        sigmoid_pair::<T, FMA>(x).0 - self.target
    }
}

/// BCE on a probability p: −y·max(ln p, −100) − (1 − y)·max(ln(1 − p), −100); derivative
/// (p − y)/max(p(1 − p), 1e-12). The clamped logs are finite, so any y is safe.
///
/// NOTE: the logarithms come from the standard library and are not vectorised.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BceProbability<T> {
    pub target: T,
    pub log_clamp: T,
    pub eps: T,
}

impl<T: Real> BceProbability<T> {
    pub(crate) fn new(target: f64) -> Self {
        Self {
            target: T::from_f64(target),
            log_clamp: T::from_f64(LOG_CLAMP),
            eps: T::from_f64(PROBABILITY_EPS),
        }
    }

    /// max(ln v, −100), keeping NaN.
    #[inline(always)]
    fn clamped_ln(&self, v: T) -> T {
        let log = v.ln();
        if log < self.log_clamp {
            self.log_clamp
        } else {
            log
        }
    }
}

impl<T: Real> ElementKernel<T> for BceProbability<T> {
    #[inline(always)]
    fn value<const FMA: bool>(&self, p: T) -> T {
        let y = self.target;
        let log_p = self.clamped_ln(p);
        let log_q = self.clamped_ln(T::ONE - p);
        -(y * log_p) - (T::ONE - y) * log_q
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, p: T) -> T {
        let variance = p * (T::ONE - p);
        // Keeps NaN, as the plain path's `maximum` does.
        let variance = if variance < self.eps {
            self.eps
        } else {
            variance
        };
        (p - self.target) / variance
    }
}

/// relu(m − s·x); derivative −s where m − s·x > 0, 0 where m − s·x ≤ 0 (the kink included),
/// NaN for NaN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hinge<T> {
    pub margin: T,
    pub sign: T,
}

impl<T: Real> ElementKernel<T> for Hinge<T> {
    #[inline(always)]
    fn value<const FMA: bool>(&self, x: T) -> T {
        let z = self.margin - self.sign * x;
        if z <= T::ZERO {
            T::ZERO
        } else {
            z
        }
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, x: T) -> T {
        let z = self.margin - self.sign * x;
        // For NaN z both comparisons are false, and the NaN z is returned.
        if z > T::ZERO {
            -self.sign
        } else if z <= T::ZERO {
            T::ZERO
        } else {
            z
        }
    }
}

/// (x − t)²; derivative 2(x − t).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Squared<T> {
    pub target: T,
}

impl<T: Real> ElementKernel<T> for Squared<T> {
    #[inline(always)]
    fn value<const FMA: bool>(&self, x: T) -> T {
        let d = x - self.target;
        d * d
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, x: T) -> T {
        let d = x - self.target;
        d + d
    }
}

/// s·x; derivative s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Linear<T> {
    pub sign: T,
}

impl<T: Real> ElementKernel<T> for Linear<T> {
    #[inline(always)]
    fn value<const FMA: bool>(&self, x: T) -> T {
        self.sign * x
    }

    #[inline(always)]
    fn derivative<const FMA: bool>(&self, _x: T) -> T {
        self.sign
    }
}

/// An operation run with a term's kernel: the loop that is monomorphised per term.
pub(crate) trait KernelVisitor<T: Real> {
    /// The operation's result type.
    type Output;

    /// Runs the operation with one kernel.
    fn visit<K: ElementKernel<T>>(self, kernel: K) -> Self::Output;
}

/// Picks the kernel of `term` once and runs `visitor` with it.
pub(crate) fn visit_term<T: Real, V: KernelVisitor<T>>(term: Term, visitor: V) -> V::Output {
    match term {
        Term::Bce { target: 1.0 } => visitor.visit(BceTargetOne),
        Term::Bce { target: 0.0 } => visitor.visit(BceTargetZero),
        Term::Bce { target } => visitor.visit(BceSoftTarget {
            target: T::from_f64(target),
        }),
        Term::BceProbability { target } => visitor.visit(BceProbability::<T>::new(target)),
        Term::Hinge { margin, sign } => visitor.visit(Hinge {
            margin: T::from_f64(margin),
            sign: T::from_f64(sign),
        }),
        Term::Squared { target } => visitor.visit(Squared {
            target: T::from_f64(target),
        }),
        Term::Linear { sign } => visitor.visit(Linear {
            sign: T::from_f64(sign),
        }),
    }
}
