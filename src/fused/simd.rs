//! Run-time dispatch of the chunk loops: an AVX2 + FMA build of each loop where the CPU has
//! those features, and the portable build (which the compiler vectorises for the baseline
//! target, SSE2 on x86-64) elsewhere. A default build thus runs the same code as one compiled
//! with `-C target-cpu=native` on AVX2 machines.

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

/// [`reduce::sum_chunk`] in the best build for this CPU.
#[inline]
pub(crate) fn sum_chunk<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    chunk: Inputs<'_, X>,
) -> f64 {
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
    gradient: &mut [X],
) {
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
    gradient: &mut [X],
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

    /// The dispatched build (AVX2 + FMA where present) and the portable build agree within a
    /// few ulps, and the gradient loop writes every element.
    #[test]
    fn dispatched_build_matches_portable() {
        let x = logits(3000);
        let weights: Vec<f32> = (0..3000).map(|i| (i % 5) as f32 * 0.5).collect();
        let mask: Vec<u8> = (0..3000).map(|i| (i % 3 != 0) as u8).collect();
        let inputs = Inputs {
            logits: &x[..],
            weights: Some(&weights[..]),
            mask: Some(&mask[..]),
        };

        let kernel = BceTargetOne;
        let fast = sum_chunk(&kernel, inputs);
        let portable = reduce::sum_chunk::<f32, _, false>(&kernel, inputs);
        assert!(
            (fast - portable).abs() <= 1e-6 * portable.abs(),
            "{fast} vs {portable}"
        );

        let kernel = BceTargetZero;
        let mut fast = vec![f32::NAN; 3000];
        let mut portable = vec![f32::NAN; 3000];
        gradient_chunk(&kernel, 0.5, inputs, &mut fast);
        reduce::gradient_chunk::<f32, _, false>(&kernel, 0.5, inputs, &mut portable);
        for (index, (a, b)) in fast.iter().zip(&portable).enumerate() {
            assert!(
                (a - b).abs() <= 4.0 * f32::EPSILON * b.abs(),
                "index {index}: {a} vs {b}"
            );
        }

        let kernel = Hinge {
            margin: 1.0f32,
            sign: 1.0,
        };
        let mut fast = vec![f32::NAN; 3000];
        gradient_chunk(&kernel, 1.0, inputs, &mut fast);
        assert!(fast.iter().all(|g| g.is_finite()));
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
