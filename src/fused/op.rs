//! The candle custom ops: [`ReduceOp`] reduces a group in one pass, and its backward runs
//! [`GradientOp`], which writes the gradient with respect to the logits in one pass.
//!
//! The first input is always the logits. Optional further inputs are the weights (a float
//! dtype) and the mask (u8), distinguished by dtype. Weights and mask are constants: the backward
//! returns no gradient for them.

use std::sync::{Arc, Mutex};

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor};

use super::element::Element;
use super::math::Real;
use super::reduce::{self, Inputs};
use super::terms::{visit_term, ElementKernel, KernelVisitor};
use crate::summary::{BatchSums, Monitor};
use crate::term::Term;

/// A storage argument of a custom op.
type Argument<'a> = (&'a CpuStorage, &'a Layout);

/// The op that returns scale·Σ w·ℓ(x) / divisor as a rank-0 tensor in the compute dtype.
///
/// With `monitor` set, the forward pass also records the summary's sums over the same outputs
/// in `sums`, which the caller reads after the op has run.
#[derive(Debug, Clone)]
pub(crate) struct ReduceOp {
    pub term: Term,
    pub scale: f64,
    pub divisor: f64,
    pub monitor: Option<Monitor>,
    pub sums: Arc<Mutex<Option<BatchSums>>>,
}

/// The op that returns coefficient·w·∂ℓ/∂x in the logits' shape and dtype.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GradientOp {
    pub term: Term,
    pub coefficient: f64,
}

/// The slice of a contiguous layout; the wrapper makes every input contiguous.
fn contiguous<'a, T>(data: &'a [T], layout: &Layout) -> candle_core::Result<&'a [T]> {
    layout
        .contiguous_offsets()
        .and_then(|(start, end)| data.get(start..end))
        .ok_or(candle_core::Error::RequiresContiguous {
            op: "gan-losses fused reduction",
        })
}

/// Compute-dtype slices of a storage.
trait FromStorage: Sized {
    fn slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [Self]>;
}

impl FromStorage for f32 {
    fn slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
        match storage {
            CpuStorage::F32(data) => contiguous(data, layout),
            other => Err(unexpected_dtype(other.dtype(), DType::F32)),
        }
    }
}

impl FromStorage for f64 {
    fn slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f64]> {
        match storage {
            CpuStorage::F64(data) => contiguous(data, layout),
            other => Err(unexpected_dtype(other.dtype(), DType::F64)),
        }
    }
}

fn unexpected_dtype(got: DType, expected: DType) -> candle_core::Error {
    candle_core::Error::DTypeMismatchBinaryOp {
        lhs: expected,
        rhs: got,
        op: "gan-losses fused reduction",
    }
}

/// Collects the inputs of one call, checking that they have one shape.
fn inputs<'a, X: Element>(
    logits: &'a [X],
    logits_layout: &Layout,
    extras: &[Argument<'a>],
) -> candle_core::Result<Inputs<'a, X>>
where
    X::Compute: FromStorage,
{
    let mut weights = None;
    let mut mask = None;
    for &(storage, layout) in extras {
        if layout.shape() != logits_layout.shape() {
            return Err(candle_core::Error::ShapeMismatchBinaryOp {
                lhs: logits_layout.shape().clone(),
                rhs: layout.shape().clone(),
                op: "gan-losses fused reduction",
            });
        }
        match storage {
            CpuStorage::U8(data) => mask = Some(contiguous(data, layout)?),
            other => weights = Some(X::Compute::slice(other, layout)?),
        }
    }
    Ok(Inputs {
        logits,
        weights,
        mask,
    })
}

struct SumVisitor<'a, X: Element> {
    inputs: Inputs<'a, X>,
    monitor: Option<&'a Monitor>,
}

impl<X: Element> KernelVisitor<X::Compute> for SumVisitor<'_, X> {
    type Output = (f64, Option<BatchSums>);

    fn visit<K: ElementKernel<X::Compute>>(self, kernel: K) -> Self::Output {
        reduce::sum(&kernel, self.inputs, self.monitor)
    }
}

struct GradientVisitor<'a, X: Element> {
    inputs: Inputs<'a, X>,
    coefficient: X::Compute,
}

impl<X: Element> KernelVisitor<X::Compute> for GradientVisitor<'_, X> {
    type Output = Vec<X>;

    fn visit<K: ElementKernel<X::Compute>>(self, kernel: K) -> Vec<X> {
        reduce::gradient(&kernel, self.coefficient, self.inputs)
    }
}

impl ReduceOp {
    fn sum<X: Element>(
        &self,
        logits: &[X],
        layout: &Layout,
        extras: &[Argument<'_>],
    ) -> candle_core::Result<f64>
    where
        X::Compute: FromStorage,
    {
        let logits = contiguous(logits, layout)?;
        let inputs = inputs(logits, layout, extras)?;
        let visitor = SumVisitor {
            inputs,
            monitor: self.monitor.as_ref(),
        };
        let (total, sums) = visit_term(self.term, visitor);
        if sums.is_some() {
            // A poisoned lock only means another thread panicked while holding it; the value
            // is still a plain overwrite.
            let mut slot = self
                .sums
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *slot = sums;
        }
        Ok(total)
    }

    fn forward(
        &self,
        (logits, layout): Argument<'_>,
        extras: &[Argument<'_>],
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let total = match logits {
            CpuStorage::F32(data) => self.sum(data, layout, extras)?,
            CpuStorage::F64(data) => self.sum(data, layout, extras)?,
            CpuStorage::F16(data) => self.sum(data, layout, extras)?,
            CpuStorage::BF16(data) => self.sum(data, layout, extras)?,
            other => {
                return Err(candle_core::Error::UnsupportedDTypeForOp(
                    other.dtype(),
                    "gan-losses fused reduction",
                ))
            }
        };
        // The scale multiplies after the sum; 0·∞ still gives NaN, as in the plain path.
        let value = total * self.scale / self.divisor;
        let storage = match logits {
            CpuStorage::F64(_) => CpuStorage::F64(vec![value]),
            _ => CpuStorage::F32(vec![value as f32]),
        };
        Ok((storage, Shape::from(())))
    }

    /// Builds the gradient op for an incoming gradient `upstream` of the reduced value.
    fn gradient_op(&self, upstream: &Tensor) -> candle_core::Result<GradientOp> {
        let upstream = upstream.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        Ok(GradientOp {
            term: self.term,
            coefficient: upstream * self.scale / self.divisor,
        })
    }
}

impl GradientOp {
    fn fill<X: Element>(
        &self,
        logits: &[X],
        layout: &Layout,
        extras: &[Argument<'_>],
    ) -> candle_core::Result<Vec<X>>
    where
        X::Compute: FromStorage,
    {
        let logits = contiguous(logits, layout)?;
        let visitor = GradientVisitor {
            inputs: inputs(logits, layout, extras)?,
            coefficient: X::Compute::from_f64(self.coefficient),
        };
        Ok(visit_term(self.term, visitor))
    }

    fn forward(
        &self,
        (logits, layout): Argument<'_>,
        extras: &[Argument<'_>],
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let storage = match logits {
            CpuStorage::F32(data) => CpuStorage::F32(self.fill(data, layout, extras)?),
            CpuStorage::F64(data) => CpuStorage::F64(self.fill(data, layout, extras)?),
            CpuStorage::F16(data) => CpuStorage::F16(self.fill(data, layout, extras)?),
            CpuStorage::BF16(data) => CpuStorage::BF16(self.fill(data, layout, extras)?),
            other => {
                return Err(candle_core::Error::UnsupportedDTypeForOp(
                    other.dtype(),
                    "gan-losses fused gradient",
                ))
            }
        };
        Ok((storage, layout.shape().clone()))
    }
}

impl CustomOp1 for ReduceOp {
    fn name(&self) -> &'static str {
        "gan-losses-fused-reduce"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward((storage, layout), &[])
    }

    fn bwd(
        &self,
        logits: &Tensor,
        _value: &Tensor,
        upstream: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let op = self.gradient_op(upstream)?;
        Ok(Some(logits.apply_op1_no_bwd(&op)?))
    }
}

impl CustomOp2 for ReduceOp {
    fn name(&self) -> &'static str {
        "gan-losses-fused-reduce"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward((s1, l1), &[(s2, l2)])
    }

    fn bwd(
        &self,
        logits: &Tensor,
        extra: &Tensor,
        _value: &Tensor,
        upstream: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let op = self.gradient_op(upstream)?;
        Ok((Some(logits.apply_op2_no_bwd(extra, &op)?), None))
    }
}

impl CustomOp3 for ReduceOp {
    fn name(&self) -> &'static str {
        "gan-losses-fused-reduce"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward((s1, l1), &[(s2, l2), (s3, l3)])
    }

    fn bwd(
        &self,
        logits: &Tensor,
        weights: &Tensor,
        mask: &Tensor,
        _value: &Tensor,
        upstream: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let op = self.gradient_op(upstream)?;
        Ok((
            Some(logits.apply_op3_no_bwd(weights, mask, &op)?),
            None,
            None,
        ))
    }
}

impl CustomOp1 for GradientOp {
    fn name(&self) -> &'static str {
        "gan-losses-fused-gradient"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward((storage, layout), &[])
    }
}

impl CustomOp2 for GradientOp {
    fn name(&self) -> &'static str {
        "gan-losses-fused-gradient"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward((s1, l1), &[(s2, l2)])
    }
}

impl CustomOp3 for GradientOp {
    fn name(&self) -> &'static str {
        "gan-losses-fused-gradient"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward((s1, l1), &[(s2, l2), (s3, l3)])
    }
}
