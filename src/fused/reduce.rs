//! The one-pass loops: the reduced sum of the element terms and the gradient, in fixed chunks.
//!
//! Both loops split the input into chunks of [`CHUNK`] elements whatever the number of threads.
//! Each chunk's sum is computed in the same order by one thread, and the chunk sums are added
//! in index order, so the result is bit-identical with one thread or many. Rayon runs the
//! chunks in parallel from [`PARALLEL_MIN`] elements on.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::element::{Element, BLOCK};
use super::math::{compensated_sum, LaneSums, Real};
use super::simd;
use super::terms::ElementKernel;
use crate::summary::{BatchSums, Monitor};

/// Elements per chunk: the unit of parallel work and of the fixed summation order.
pub(crate) const CHUNK: usize = 32 * BLOCK;

/// Inputs from this many elements on are processed in parallel.
pub(crate) const PARALLEL_MIN: usize = 8 * CHUNK;

/// Contiguous inputs of one group: logits in their storage type, weights in the compute type,
/// and a mask where non-zero means included. Weights and mask have the logits' length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inputs<'a, X: Element> {
    pub logits: &'a [X],
    pub weights: Option<&'a [X::Compute]>,
    pub mask: Option<&'a [u8]>,
}

impl<'a, X: Element> Inputs<'a, X> {
    /// Returns the inputs of elements `start..end`.
    #[inline(always)]
    fn range(&self, start: usize, end: usize) -> Self {
        Self {
            logits: &self.logits[start..end],
            weights: self.weights.map(|weights| &weights[start..end]),
            mask: self.mask.map(|mask| &mask[start..end]),
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.logits.len()
    }
}

/// Multiplies by the weights and zeroes masked-out elements and elements of weight 0, dropping
/// their NaN or ∞.
#[inline(always)]
fn weigh_and_mask<T: Real>(values: &mut [T], weights: Option<&[T]>, mask: Option<&[u8]>) {
    if let Some(weights) = weights {
        for (value, &weight) in values.iter_mut().zip(weights) {
            *value = if weight == T::ZERO {
                T::ZERO
            } else {
                *value * weight
            };
        }
    }
    if let Some(mask) = mask {
        for (value, &keep) in values.iter_mut().zip(mask) {
            if keep == 0 {
                *value = T::ZERO;
            }
        }
    }
}

/// Σ w·ℓ(x) over the included elements of one chunk, as lane sums combined in a fixed order.
#[inline(always)]
pub(crate) fn sum_chunk<X: Element, K: ElementKernel<X::Compute>, const FMA: bool>(
    kernel: &K,
    chunk: Inputs<'_, X>,
) -> f64 {
    let mut sums = LaneSums::default();
    let mut logits = [X::Compute::ZERO; BLOCK];
    let mut values = [X::Compute::ZERO; BLOCK];
    let mut start = 0;
    while start < chunk.len() {
        let end = (start + BLOCK).min(chunk.len());
        let block = chunk.range(start, end);
        let x = X::view(block.logits, &mut logits);
        let values = &mut values[..x.len()];
        for (value, &xi) in values.iter_mut().zip(x) {
            *value = kernel.value::<FMA>(xi);
        }
        weigh_and_mask(values, block.weights, block.mask);
        X::Compute::accumulate(&mut sums, values);
        start = end;
    }
    sums.total()
}

/// Writes coefficient·w·∂ℓ/∂x to every slot of `gradient` (0 where masked), which has the
/// chunk's length.
#[inline(always)]
pub(crate) fn gradient_chunk<X: Element, K: ElementKernel<X::Compute>, const FMA: bool>(
    kernel: &K,
    coefficient: X::Compute,
    chunk: Inputs<'_, X>,
    gradient: &mut [MaybeUninit<X>],
) {
    let mut logits = [X::Compute::ZERO; BLOCK];
    let mut values = [X::Compute::ZERO; BLOCK];
    let mut start = 0;
    while start < chunk.len() {
        let end = (start + BLOCK).min(chunk.len());
        let block = chunk.range(start, end);
        let x = X::view(block.logits, &mut logits);
        let values = &mut values[..x.len()];
        for (value, &xi) in values.iter_mut().zip(x) {
            *value = coefficient * kernel.derivative::<FMA>(xi);
        }
        weigh_and_mask(values, block.weights, block.mask);
        X::store(values, &mut gradient[start..end]);
        start = end;
    }
}

/// Σ w·ℓ(x) over the included elements, summed chunk by chunk in a fixed order, and with a
/// `monitor` the summary's sums over the same chunks while they are in cache.
pub(crate) fn sum<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    inputs: Inputs<'_, X>,
    monitor: Option<&Monitor>,
) -> (f64, Option<BatchSums>) {
    let count = inputs.len().div_ceil(CHUNK);
    let chunk_sum = |index: usize| {
        let start = index * CHUNK;
        let end = (start + CHUNK).min(inputs.len());
        let chunk = inputs.range(start, end);
        let total = simd::sum_chunk(kernel, chunk);
        let sums = monitor.map(|monitor| monitor_chunk(chunk, monitor));
        (total, sums)
    };
    let partials: Vec<(f64, Option<BatchSums>)> = if inputs.len() >= PARALLEL_MIN {
        (0..count).into_par_iter().map(chunk_sum).collect()
    } else {
        (0..count).map(chunk_sum).collect()
    };

    let totals: Vec<f64> = partials.iter().map(|(total, _)| *total).collect();
    let sums = monitor.map(|_| {
        let mut all = BatchSums::default();
        for (_, sums) in &partials {
            if let Some(sums) = sums {
                all.merge(sums);
            }
        }
        all
    });
    (compensated_sum(&totals), sums)
}

/// Sums the summary figures over the included outputs of one chunk. Weights do not enter them.
fn monitor_chunk<X: Element>(chunk: Inputs<'_, X>, monitor: &Monitor) -> BatchSums {
    let mut sums = BatchSums::default();
    let mut buffer = [X::Compute::ZERO; BLOCK];
    let mut start = 0;
    while start < chunk.len() {
        let end = (start + BLOCK).min(chunk.len());
        let block = chunk.range(start, end);
        let x = X::view(block.logits, &mut buffer);
        match block.mask {
            Some(mask) => {
                for (&value, &keep) in x.iter().zip(mask) {
                    if keep != 0 {
                        sums.add(value.to_f64(), monitor);
                    }
                }
            }
            None => {
                for &value in x {
                    sums.add(value.to_f64(), monitor);
                }
            }
        }
        start = end;
    }
    sums
}

/// Computes the gradient coefficient·w·∂ℓ/∂x of every element, in the logits' storage type.
pub(crate) fn gradient<X: Element, K: ElementKernel<X::Compute>>(
    kernel: &K,
    coefficient: X::Compute,
    inputs: Inputs<'_, X>,
) -> Vec<X> {
    let count = inputs.len();
    let mut gradient = Vec::with_capacity(count);
    let slots = &mut gradient.spare_capacity_mut()[..count];
    let chunk_gradient = |(index, out): (usize, &mut [MaybeUninit<X>])| {
        let start = index * CHUNK;
        let end = start + out.len();
        simd::gradient_chunk(kernel, coefficient, inputs.range(start, end), out);
    };
    if count >= PARALLEL_MIN {
        slots
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(chunk_gradient);
    } else {
        slots.chunks_mut(CHUNK).enumerate().for_each(chunk_gradient);
    }
    // SAFETY: the chunks above cover `slots`, the first `count` slots of the capacity, and
    // `gradient_chunk` writes every slot of its chunk, so `count` elements are initialised.
    unsafe { gradient.set_len(count) };
    gradient
}
