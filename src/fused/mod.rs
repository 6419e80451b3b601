//! Fused CPU kernels: one pass forward, one pass backward.
//!
//! [`reduce_group`] wraps a group's logits, weights and mask in one candle custom op whose
//! forward reads each logit once and returns the reduced, weighted, masked and scaled value, and
//! whose backward reads each logit once and writes each gradient once. The element terms are
//! evaluated by vectorised kernels ([`terms`], [`math`]) selected at run time for the CPU
//! ([`simd`]), and summed in fixed chunks so that the result does not depend on the number of
//! threads ([`reduce`]). f16 and bf16 logits are read from their storage, computed and summed
//! in f32 or f64, and their gradients are written in their own dtype.

mod element;
mod math;
mod op;
mod reduce;
mod simd;
mod terms;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, DType, Storage, Tensor};

use crate::batch::compute_dtype;
use crate::error::Result;
use crate::group::{included, Group};
use crate::options::Reduction;
use crate::summary::{BatchSums, Monitor};
use op::ReduceOp;

/// Reduces a group with a fused kernel, or returns `None` where none serves its device.
///
/// The value is a rank-0 tensor in the compute dtype, differentiable with respect to the logits.
/// Non-contiguous inputs are copied to contiguous ones first.
pub(crate) fn reduce_group(group: &Group<'_>, reduction: Reduction) -> Result<Option<Tensor>> {
    Ok(reduce_with(group, reduction, None)?.map(|(value, _)| value))
}

/// Reduces a group like [`reduce_group`] and records the summary's sums over its outputs in the
/// same pass, or returns `None` where no fused kernel serves its device.
pub(crate) fn reduce_group_monitored(
    group: &Group<'_>,
    reduction: Reduction,
    monitor: Monitor,
) -> Result<Option<(Tensor, BatchSums)>> {
    match reduce_with(group, reduction, Some(monitor))? {
        Some((value, Some(sums))) => Ok(Some((value, sums))),
        _ => Ok(None),
    }
}

fn reduce_with(
    group: &Group<'_>,
    reduction: Reduction,
    monitor: Option<Monitor>,
) -> Result<Option<(Tensor, Option<BatchSums>)>> {
    let logits = group.batch.logits();
    if !logits.device().is_cpu() {
        return Ok(None);
    }

    let dtype = logits.dtype();
    let logits = logits.contiguous()?;
    let weights = match group.batch.weights() {
        Some(weights) => Some(prepare_weights(weights, dtype)?),
        None => None,
    };
    let mask = match group.batch.mask() {
        Some(mask) => Some(prepare_mask(mask)?),
        None => None,
    };

    let divisor = match (reduction, &mask) {
        (Reduction::Sum, _) => 1.0,
        (Reduction::Mean, None) => logits.elem_count() as f64,
        (Reduction::Mean, Some(mask)) => count_included(mask)?.max(1) as f64,
    };
    let sums = Arc::new(Mutex::new(None));
    let op = ReduceOp {
        term: group.term,
        scale: group.scale,
        divisor,
        monitor,
        sums: Arc::clone(&sums),
    };

    let value = match (weights, mask) {
        (None, None) => logits.apply_op1(op)?,
        (Some(weights), None) => logits.apply_op2(&weights, op)?,
        (None, Some(mask)) => logits.apply_op2(&mask, op)?,
        (Some(weights), Some(mask)) => logits.apply_op3(&weights, &mask, op)?,
    };
    let sums = *sums.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok(Some((value, sums)))
}

/// Weights as constants in the compute dtype, contiguous.
fn prepare_weights(weights: &Tensor, logits_dtype: DType) -> Result<Tensor> {
    let compute = compute_dtype(logits_dtype);
    let weights = weights.detach();
    let weights = if weights.dtype() == compute {
        weights
    } else {
        weights.to_dtype(compute)?
    };
    Ok(weights.contiguous()?)
}

/// Converts the mask to contiguous u8, non-zero meaning included.
fn prepare_mask(mask: &Tensor) -> Result<Tensor> {
    let mask = if mask.dtype() == DType::U8 {
        mask.clone()
    } else {
        included(mask)?
    };
    Ok(mask.contiguous()?)
}

/// Counts the non-zero elements of a contiguous u8 mask.
fn count_included(mask: &Tensor) -> Result<usize> {
    let (storage, layout) = mask.storage_and_layout();
    let data = match (&*storage, layout.contiguous_offsets()) {
        (Storage::Cpu(CpuStorage::U8(data)), Some((start, end))) => data.get(start..end),
        _ => None,
    };
    match data {
        Some(data) => Ok(data.iter().filter(|&&keep| keep != 0).count()),
        None => {
            drop(storage);
            let count = mask.ne(0u8)?.to_dtype(DType::F64)?.sum_all()?;
            Ok(count.to_scalar::<f64>()? as usize)
        }
    }
}
