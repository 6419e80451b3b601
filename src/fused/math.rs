//! Elementwise math of the fused kernels: e^(−|x|), ln(1 + e) for e in [0, 1], and the
//! [`Real`] trait that gives f32 and f64 one interface.
//!
//! The f32 functions are branch-free polynomials, so the compiler vectorises the loops that call
//! them. They take a `FMA` flag: `true` uses fused multiply-adds, which is right only inside a
//! function compiled with the `fma` target feature (elsewhere `mul_add` becomes a slow library
//! call). The f64 functions call the standard library.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// a·b + c, fused when `FMA` is set.
#[inline(always)]
fn mul_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// 1.5·2^23: adding it to an f32 of magnitude below 2^22 rounds to the nearest integer, which
/// then sits in the low mantissa bits.
const ROUNDING_SHIFT: f32 = 12_582_912.0;

/// ln 2 split so that n·`LN2_HIGH` is exact for |n| < 2^15 (Cody and Waite's reduction).
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;

/// Below this, e^x is under half the smallest f32 subnormal and rounds to 0.
const EXP_FLOOR: f32 = -104.0;

/// e^(−|x|) in f32, within 2 ulps of the correctly rounded value down to the subnormal range.
///
/// With t = −|x| clamped at −104, t = n·ln 2 + r with n an integer and |r| ≤ ln 2 / 2; e^r is
/// its Taylor polynomial of degree 7 (truncation below 6e-9 relative, evaluated by Estrin's
/// scheme) and 2^n is applied as two
/// factors 2^(n/2) so that n down to −150 reaches the subnormals without overflowing the
/// exponent field. NaN gives NaN, ±∞ gives 0.
#[inline(always)]
pub(crate) fn exp_neg_abs_f32<const FMA: bool>(x: f32) -> f32 {
    let t = -x.abs();
    // A comparison is false for NaN, so NaN passes the clamp unchanged.
    let t = if t < EXP_FLOOR { EXP_FLOOR } else { t };

    let shifted = mul_add::<FMA>(t, std::f32::consts::LOG2_E, ROUNDING_SHIFT);
    let n = shifted - ROUNDING_SHIFT;
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUNDING_SHIFT.to_bits() as i32);

    let r = mul_add::<FMA>(n, -LN2_HIGH, t);
    let r = mul_add::<FMA>(n, -LN2_LOW, r);

    // Estrin's scheme: independent pairs combined by powers of r, so the dependency chain is
    // four multiply-adds deep instead of seven.
    let r2 = r * r;
    let r4 = r2 * r2;
    let c01 = mul_add::<FMA>(r, 1.0, 1.0);
    let c23 = mul_add::<FMA>(r, 1.0 / 6.0, 0.5);
    let c45 = mul_add::<FMA>(r, 1.0 / 120.0, 1.0 / 24.0);
    let c67 = mul_add::<FMA>(r, 1.0 / 5040.0, 1.0 / 720.0);
    let low = mul_add::<FMA>(r2, c23, c01);
    let high = mul_add::<FMA>(r2, c67, c45);
    let p = mul_add::<FMA>(r4, high, low);

    let half = n_int >> 1;
    let rest = n_int.wrapping_sub(half);
    p * power_of_two(half) * power_of_two(rest)
}

/// 2^n for n in [−126, 127], built in the exponent field.
#[inline(always)]
fn power_of_two(n: i32) -> f32 {
    f32::from_bits((n.wrapping_add(127) as u32) << 23)
}

/// Coefficients of P with ln(1 + e) ≈ e + e·P(e) on [0, 1]. 1 + P is the degree-9 polynomial
/// that interpolates ln(1 + e)/e at the 10 Chebyshev nodes of [0, 1], computed in f64, whose
/// relative error is below 5.4e-9 in exact arithmetic, a tenth of an f32 ulp.
const LN_1P_COEFFICIENTS: [f32; 10] = [
    -5.343_708e-9,
    -0.499_998_93,
    0.333_297_1,
    -0.249_516_16,
    0.196_632_74,
    -0.152_696_67,
    0.105_436_236,
    -0.056_373_61,
    0.019_542_526,
    -0.003_176_057,
];

/// ln(1 + e) in f32 for e in [0, 1], within 2 ulps of the correctly rounded value.
///
/// One polynomial covers the whole interval, so there is no division and no branch. The form
/// e + e·P(e) keeps the relative accuracy for tiny and subnormal e, and P, about −e/2, is small
/// next to 1, so its rounding errors shrink in the sum. P is evaluated by Estrin's scheme. NaN
/// gives NaN.
#[inline(always)]
pub(crate) fn ln_1p_unit_f32<const FMA: bool>(e: f32) -> f32 {
    let c = LN_1P_COEFFICIENTS;
    let e2 = e * e;
    let e4 = e2 * e2;
    let e8 = e4 * e4;
    let p01 = mul_add::<FMA>(e, c[1], c[0]);
    let p23 = mul_add::<FMA>(e, c[3], c[2]);
    let p45 = mul_add::<FMA>(e, c[5], c[4]);
    let p67 = mul_add::<FMA>(e, c[7], c[6]);
    let p89 = mul_add::<FMA>(e, c[9], c[8]);
    let p03 = mul_add::<FMA>(e2, p23, p01);
    let p47 = mul_add::<FMA>(e2, p67, p45);
    let p07 = mul_add::<FMA>(e4, p47, p03);
    let p = mul_add::<FMA>(e8, p89, p07);
    mul_add::<FMA>(e, p, e)
}

/// The floating-point type in which a kernel computes: f32 (also for f16 and bf16) or f64.
pub(crate) trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;

    /// Rounds `value` to the nearest value of this type.
    fn from_f64(value: f64) -> Self;

    /// Widens this value to f64, exactly.
    fn to_f64(self) -> f64;

    /// e^(−|x|).
    fn exp_neg_abs<const FMA: bool>(self) -> Self;

    /// ln(1 + e) for e in [0, 1].
    fn ln_1p_unit<const FMA: bool>(self) -> Self;

    /// Computes the natural logarithm with the standard library.
    fn ln(self) -> Self;

    /// Adds values to per-lane sums: plain f64 sums for f32 values, compensated sums for f64.
    fn accumulate(sums: &mut LaneSums, values: &[Self]);
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value as f32
    }

    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline(always)]
    fn exp_neg_abs<const FMA: bool>(self) -> Self {
        exp_neg_abs_f32::<FMA>(self)
    }

    #[inline(always)]
    fn ln_1p_unit<const FMA: bool>(self) -> Self {
        ln_1p_unit_f32::<FMA>(self)
    }

    #[inline(always)]
    fn ln(self) -> Self {
        f32::ln(self)
    }

    #[inline(always)]
    fn accumulate(sums: &mut LaneSums, values: &[Self]) {
        // An f32 value is exact in f64, and 2^29 f64 additions lose at most about 2^-24
        // relative, so the f32 result is unaffected by the summation order.
        let mut lanes = values.chunks_exact(LANES);
        for block in &mut lanes {
            for (sum, &value) in sums.sum.iter_mut().zip(block) {
                *sum += f64::from(value);
            }
        }
        for (sum, &value) in sums.sum.iter_mut().zip(lanes.remainder()) {
            *sum += f64::from(value);
        }
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value
    }

    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline(always)]
    fn exp_neg_abs<const FMA: bool>(self) -> Self {
        (-self.abs()).exp()
    }

    #[inline(always)]
    fn ln_1p_unit<const FMA: bool>(self) -> Self {
        self.ln_1p()
    }

    #[inline(always)]
    fn ln(self) -> Self {
        f64::ln(self)
    }

    #[inline(always)]
    fn accumulate(sums: &mut LaneSums, values: &[Self]) {
        for (index, &value) in values.iter().enumerate() {
            let lane = index % LANES;
            neumaier_add(&mut sums.sum[lane], &mut sums.compensation[lane], value);
        }
    }
}

/// Lanes of the per-chunk sums; a multiple of the SIMD width of f64 on every target.
pub(crate) const LANES: usize = 8;

/// Per-lane partial sums of one chunk, with Neumaier compensation terms (zero for f32 input).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LaneSums {
    sum: [f64; LANES],
    compensation: [f64; LANES],
}

impl LaneSums {
    /// Adds the lanes in a fixed order.
    pub(crate) fn total(&self) -> f64 {
        let mut sum = 0.0;
        let mut compensation = 0.0;
        for lane in 0..LANES {
            neumaier_add(&mut sum, &mut compensation, self.sum[lane]);
            if self.sum[lane].is_finite() {
                neumaier_add(&mut sum, &mut compensation, self.compensation[lane]);
            }
        }
        finish(sum, compensation)
    }
}

/// Adds `value` to `sum`, keeping the rounding error in `compensation` (Neumaier's variant of
/// Kahan summation, which stays exact when `value` is larger than `sum`).
#[inline(always)]
pub(crate) fn neumaier_add(sum: &mut f64, compensation: &mut f64, value: f64) {
    let next = *sum + value;
    if sum.abs() >= value.abs() {
        *compensation += (*sum - next) + value;
    } else {
        *compensation += (value - next) + *sum;
    }
    *sum = next;
}

/// Adds `values` in order with compensation.
pub(crate) fn compensated_sum(values: &[f64]) -> f64 {
    let mut sum = 0.0;
    let mut compensation = 0.0;
    for &value in values {
        neumaier_add(&mut sum, &mut compensation, value);
    }
    finish(sum, compensation)
}

/// Combines a compensated sum. An infinite or NaN sum makes the compensation NaN (∞ − ∞), so
/// then the sum alone is returned, with IEEE semantics.
fn finish(sum: f64, compensation: f64) -> f64 {
    if sum.is_finite() {
        sum + compensation
    } else {
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in f32 ulps between `value` and the f64 reference rounded to f32; subnormal
    /// results count in units of the smallest subnormal.
    fn ulps(value: f32, reference: f64) -> u32 {
        let rounded = reference as f32;
        if value == rounded {
            return 0;
        }
        if value.is_nan() || rounded.is_nan() {
            return if value.is_nan() && rounded.is_nan() {
                0
            } else {
                u32::MAX
            };
        }
        (value.to_bits() as i64 - rounded.to_bits() as i64).unsigned_abs() as u32
    }

    /// Arguments from 1e-40 to 1e4 on a geometric grid, both signs, and zero.
    fn wide_arguments() -> Vec<f32> {
        let mut values = vec![0.0, -0.0];
        let mut x = 1e-40f64;
        while x < 1e4 {
            values.push(x as f32);
            values.push(-(x as f32));
            x *= 1.0007;
        }
        values
    }

    fn check_exp<const FMA: bool>() {
        let mut worst = 0;
        for x in wide_arguments() {
            let reference = (-(f64::from(x)).abs()).exp();
            let got = exp_neg_abs_f32::<FMA>(x);
            let error = ulps(got, reference);
            assert!(
                error <= 2,
                "e^-|{x}| = {got}, reference {reference}, {error} ulps"
            );
            worst = worst.max(error);
        }
        assert!(worst <= 2);
    }

    #[test]
    fn exp_matches_libm_without_fma() {
        check_exp::<false>();
    }

    #[test]
    fn exp_matches_libm_with_fma() {
        check_exp::<true>();
    }

    #[test]
    fn exp_special_values() {
        assert_eq!(exp_neg_abs_f32::<false>(f32::INFINITY), 0.0);
        assert_eq!(exp_neg_abs_f32::<false>(f32::NEG_INFINITY), 0.0);
        assert!(exp_neg_abs_f32::<false>(f32::NAN).is_nan());
        assert_eq!(exp_neg_abs_f32::<false>(0.0), 1.0);
        // e^-103 ≈ 1.4e-45 is the smallest subnormal.
        assert_eq!(exp_neg_abs_f32::<false>(103.0), (-103f64).exp() as f32);
    }

    fn check_ln_1p<const FMA: bool>() {
        let mut values: Vec<f32> = (0..=200_000).map(|i| i as f32 / 200_000.0).collect();
        values.extend(
            wide_arguments()
                .into_iter()
                .filter(|x| (0.0..=1.0).contains(x)),
        );
        values.push(f32::from_bits(1));
        for e in values {
            let reference = f64::from(e).ln_1p();
            let got = ln_1p_unit_f32::<FMA>(e);
            let error = ulps(got, reference);
            assert!(
                error <= 2,
                "ln(1 + {e}) = {got}, reference {reference}, {error} ulps"
            );
        }
    }

    #[test]
    fn ln_1p_matches_libm_without_fma() {
        check_ln_1p::<false>();
    }

    #[test]
    fn ln_1p_matches_libm_with_fma() {
        check_ln_1p::<true>();
    }

    #[test]
    fn ln_1p_special_values() {
        assert!(ln_1p_unit_f32::<false>(f32::NAN).is_nan());
        assert_eq!(ln_1p_unit_f32::<false>(0.0), 0.0);
        assert_eq!(ln_1p_unit_f32::<false>(1.0), std::f32::consts::LN_2);
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let values = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(compensated_sum(&values), 2.0);
    }

    #[test]
    fn compensated_sum_keeps_infinities() {
        assert_eq!(compensated_sum(&[1.0, f64::INFINITY, 2.0]), f64::INFINITY);
        assert!(compensated_sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        let mut sums = LaneSums::default();
        f64::accumulate(&mut sums, &[1.0, f64::INFINITY, 3.0]);
        assert_eq!(sums.total(), f64::INFINITY);
    }

    #[test]
    fn lane_sums_of_f64_are_compensated() {
        let mut sums = LaneSums::default();
        let mut values = vec![1.0; 64];
        values[0] = 1e17;
        values[8] = -1e17;
        f64::accumulate(&mut sums, &values);
        assert_eq!(sums.total(), 62.0);
    }
}
