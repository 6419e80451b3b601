//! Run-time dispatch of the chunk loops. CPUs with AVX-512 F, VL, BW and DQ run an AVX-512
//! build (512-bit vectors and 32 vector registers), CPUs with AVX2 and FMA an AVX2 build, and
//! others the portable build, which the compiler vectorises for the baseline target (SSE2 on
//! x86-64). A default build thus runs the vector code that `-C target-cpu=native` would give.

use std::mem::MaybeUninit;

use super::element::Element;
use super::reduce::{self, Inputs};
use super::terms::ElementKernel;

/// True when the CPU supports AVX2 and FMA; the standard library caches the detection.
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when the CPU supports AVX-512 F, VL, BW and DQ, and AVX2 and FMA.
#[inline]
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2_fma()
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`reduce::sum_chunk`] in the best build for this CPU.
#[inline]
pub(crate) fn sum_chunk<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    chunk: Inputs<'_, X>,
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports the features of this build, checked just above.
        return unsafe { sum_chunk_avx512(kernel, chunk) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { sum_chunk_avx2(kernel, chunk) };
    }
    reduce::sum_chunk::<X, K, false>(kernel, chunk)
}

/// [`reduce::gradient_chunk`] in the best build for this CPU.
#[inline]
pub(crate) fn gradient_chunk<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    coefficient: X::Compute,
    chunk: Inputs<'_, X>,
    gradient: &mut [MaybeUninit<X>],
) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports the features of this build, checked just above.
        unsafe { gradient_chunk_avx512(kernel, coefficient, chunk, gradient) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        unsafe { gradient_chunk_avx2(kernel, coefficient, chunk, gradient) };
        return;
    }
    reduce::gradient_chunk::<X, K, false>(kernel, coefficient, chunk, gradient)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sum_chunk_avx2<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    chunk: Inputs<'_, X>,
) -> f64 {
    reduce::sum_chunk::<X, K, true>(kernel, chunk)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gradient_chunk_avx2<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    coefficient: X::Compute,
    chunk: Inputs<'_, X>,
    gradient: &mut [MaybeUninit<X>],
) {
    reduce::gradient_chunk::<X, K, true>(kernel, coefficient, chunk, gradient)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
fn sum_chunk_avx512<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    chunk: Inputs<'_, X>,
) -> f64 {
    reduce::sum_chunk::<X, K, true>(kernel, chunk)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
fn gradient_chunk_avx512<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    coefficient: X::Compute,
    chunk: Inputs<'_, X>,
    gradient: &mut [MaybeUninit<X>],
) {
    reduce::gradient_chunk::<X, K, true>(kernel, coefficient, chunk, gradient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::terms::{BceTargetOne, BceTargetZero, Hinge};

    fn logits(count: usize) -> Vec<f32> {
        (0..count)
            .map(|i| ((i * 7919) % 2003) as f32 / 40.0 - 25.0)
            .collect()
    }

    fn initialised<T: Copy>(slots: &[MaybeUninit<T>]) -> Vec<T> {
        // SAFETY: callers pass slots that a gradient loop wrote, all of them.
        slots
            .iter()
            .map(|slot| unsafe { slot.assume_init() })
            .collect()
    }

    type SumBuild = fn(&BceTargetOne, Inputs<'_, f32>) -> f64;
    type GradientBuild = fn(&BceTargetZero, f32, Inputs<'_, f32>, &mut [MaybeUninit<f32>]);

    /// Every build this CPU runs, with the dispatched one first.
    fn builds() -> Vec<(&'static str, SumBuild, GradientBuild)> {
        let mut builds: Vec<(&'static str, SumBuild, GradientBuild)> =
            vec![("dispatched", sum_chunk, gradient_chunk)];
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx2_fma() {
                builds.push((
                    "avx2",
                    // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                    |k, c| unsafe { sum_chunk_avx2(k, c) },
                    // SAFETY: as above.
                    |k, a, c, g| unsafe { gradient_chunk_avx2(k, a, c, g) },
                ));
            }
            if has_avx512() {
                builds.push((
                    "avx512",
                    // SAFETY: the CPU supports the features of this build, checked just above.
                    |k, c| unsafe { sum_chunk_avx512(k, c) },
                    // SAFETY: as above.
                    |k, a, c, g| unsafe { gradient_chunk_avx512(k, a, c, g) },
                ));
            }
        }
        builds
    }

    /// Each SIMD build agrees with the portable build within a few ulps, and the gradient
    /// loops write every element.
    #[test]
    fn every_build_matches_portable() {
        let x = logits(3000);
        let weights: Vec<f32> = (0..3000).map(|i| (i % 5) as f32 * 0.5).collect();
        let mask: Vec<u8> = (0..3000).map(|i| u8::from(i % 3 != 0)).collect();
        let inputs = Inputs {
            logits: &x[..],
            weights: Some(&weights[..]),
            mask: Some(&mask[..]),
        };
        let portable_sum = reduce::sum_chunk::<f32, _, false>(&BceTargetOne, inputs);
        let mut portable = vec![MaybeUninit::uninit(); 3000];
        reduce::gradient_chunk::<f32, _, false>(&BceTargetZero, 0.5, inputs, &mut portable);
        let portable = initialised(&portable);

        for (name, sum, gradient) in builds() {
            let fast_sum = sum(&BceTargetOne, inputs);
            assert!(
                (fast_sum - portable_sum).abs() <= 1e-6 * portable_sum.abs(),
                "{name}: {fast_sum} vs {portable_sum}"
            );
            let mut fast = vec![MaybeUninit::uninit(); 3000];
            gradient(&BceTargetZero, 0.5, inputs, &mut fast);
            let fast = initialised(&fast);
            for (index, (a, b)) in fast.iter().zip(&portable).enumerate() {
                assert!(
                    (a - b).abs() <= 4.0 * f32::EPSILON * b.abs(),
                    "{name} index {index}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn hinge_gradient_is_finite() {
        let x = logits(1000);
        let inputs = Inputs {
            logits: &x[..],
            weights: None,
            mask: None,
        };
        let kernel = Hinge {
            margin: 1.0f32,
            sign: 1.0,
        };
        let mut slots = vec![MaybeUninit::uninit(); 1000];
        gradient_chunk(&kernel, 1.0, inputs, &mut slots);
        assert!(initialised(&slots).iter().all(|g| g.is_finite()));
    }

    #[test]
    fn dispatch_reports_features() {
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            has_avx2_fma(),
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        );
        #[cfg(not(target_arch = "x86_64"))]
        assert!(!has_avx2_fma());
    }
}
