//! The shared machinery: input gradients of the discriminator and the penalty term built on
//! them, in both modes.

use candle_core::{DType, Tensor, Var};

use super::mode::{ensure_double_backward, PenaltyMode};
use super::output::PenaltyOutput;
use crate::batch::compute_dtype;
use crate::error::{Error, Result};

/// Checks that samples are a non-empty float tensor with a batch dimension, and returns the
/// batch size.
pub(crate) fn check_samples(name: &'static str, samples: &Tensor) -> Result<usize> {
    if !samples.dtype().is_float() {
        return Err(Error::UnsupportedDtype {
            name,
            dtype: samples.dtype(),
        });
    }
    let batch = samples.dims().first().copied().unwrap_or(0);
    if samples.rank() == 0 || samples.elem_count() == 0 {
        return Err(Error::EmptyBatch {
            name,
            shape: samples.shape().clone(),
        });
    }
    Ok(batch)
}

/// Checks that two sample batches have one shape and one dtype.
pub(crate) fn check_same_kind(
    name: &'static str,
    tensor: &Tensor,
    reference: &'static str,
    expected: &Tensor,
) -> Result<()> {
    if tensor.shape() != expected.shape() {
        return Err(Error::SampleShapeMismatch {
            name,
            reference,
            expected: expected.shape().clone(),
            found: tensor.shape().clone(),
        });
    }
    if tensor.dtype() != expected.dtype() {
        return Err(Error::DtypeMismatch {
            name,
            reference,
            expected: expected.dtype(),
            found: tensor.dtype(),
        });
    }
    Ok(())
}

/// Sums the discriminator's output over its non-batch dimensions, giving shape `[B]`.
fn per_sample_output(output: &Tensor, batch: usize) -> Result<Tensor> {
    if output.rank() == 0 || output.dims()[0] != batch || output.elem_count() == 0 {
        return Err(Error::DiscriminatorOutputShape {
            batch,
            found: output.shape().clone(),
        });
    }
    let per_sample = output
        .reshape((batch, output.elem_count() / batch))?
        .sum(1)?;
    Ok(per_sample.to_dtype(compute_dtype(output.dtype()))?)
}

/// Squared norms of per-sample gradients over all non-batch dimensions, shape `[B]`.
fn squared_norms(gradient: &Tensor, batch: usize) -> Result<Tensor> {
    let rows = gradient.reshape((batch, gradient.elem_count() / batch))?;
    let rows = rows.to_dtype(compute_dtype(rows.dtype()))?;
    Ok(rows.sqr()?.sum(1)?)
}

/// Computes the input gradient of Σᵢ D(xᵢ) at detached copies of the samples, and returns it
/// with the output dtype.
///
/// The samples become a fresh variable, so no gradient reaches the caller's graph (for R2 and
/// WGAN-GP, the generator). Under [`PenaltyMode::Exact`] the returned gradient keeps its
/// backward graph, which depends on the discriminator's parameters.
fn input_gradient<D>(discriminator: &D, samples: &Tensor, batch: usize) -> Result<(Tensor, DType)>
where
    D: Fn(&Tensor) -> candle_core::Result<Tensor>,
{
    let input = Var::from_tensor(&samples.detach())?;
    let output = discriminator(input.as_tensor())?;
    let per_sample = per_sample_output(&output, batch)?;
    let gradients = per_sample.sum_all()?.backward()?;
    let gradient = match gradients.get(input.as_tensor()) {
        Some(gradient) => gradient.clone(),
        None => input.as_tensor().zeros_like()?,
    };
    Ok((gradient, output.dtype()))
}

/// Evaluates a penalty P(s) of the per-sample squared input-gradient norms s = ‖∇ₓD(xᵢ)‖².
///
/// `penalty` maps s (shape `[B]`, f32 or f64) to a rank-0 tensor with candle ops. Under
/// [`PenaltyMode::FiniteDifference`] its derivative cᵢ = ∂P/∂sᵢ is taken by a first-order
/// backward through `penalty` alone, and the term's parameter gradient is
/// Σᵢ 2cᵢ‖gᵢ‖ · ∇θ[D(xᵢ + h·uᵢ) − D(xᵢ − h·uᵢ)] / (2h).
pub(crate) fn evaluate<D, P>(
    discriminator: &D,
    samples: &Tensor,
    batch: usize,
    mode: PenaltyMode,
    penalty: P,
) -> Result<PenaltyOutput>
where
    D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    P: Fn(&Tensor) -> Result<Tensor>,
{
    match mode {
        PenaltyMode::Exact => {
            ensure_double_backward()?;
            let (gradient, output_dtype) = input_gradient(discriminator, samples, batch)?;
            let squared = squared_norms(&gradient, batch)?;
            let term = penalty(&squared)?;
            let value = term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            Ok(PenaltyOutput {
                term: term.to_dtype(output_dtype)?,
                value,
                gradient_norms: squared.detach().sqrt()?,
            })
        }
        PenaltyMode::FiniteDifference { step } => {
            let (gradient, output_dtype) = input_gradient(discriminator, samples, batch)?;
            let gradient = gradient.detach();
            let squared = squared_norms(&gradient, batch)?;
            let (term, value) =
                finite_difference(discriminator, samples, &gradient, &squared, step, &penalty)?;
            Ok(PenaltyOutput {
                term: term.to_dtype(output_dtype)?,
                value,
                gradient_norms: squared.sqrt()?,
            })
        }
    }
}

/// Builds the finite-difference term and returns it with the penalty's value.
fn finite_difference<D, P>(
    discriminator: &D,
    samples: &Tensor,
    gradient: &Tensor,
    squared: &Tensor,
    step: f64,
    penalty: &P,
) -> Result<(Tensor, f64)>
where
    D: Fn(&Tensor) -> candle_core::Result<Tensor>,
    P: Fn(&Tensor) -> Result<Tensor>,
{
    let batch = squared.dims()[0];

    // cᵢ = ∂P/∂sᵢ through the penalty function only, which needs first-order gradients.
    let squared_var = Var::from_tensor(squared)?;
    let value_tensor = penalty(squared_var.as_tensor())?;
    let value = value_tensor.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    let coefficients = match value_tensor.backward()?.get(squared_var.as_tensor()) {
        Some(coefficients) => coefficients.detach(),
        None => squared.zeros_like()?,
    };

    // Unit directions uᵢ = gᵢ/‖gᵢ‖; a zero gradient row gets a zero direction, where the
    // exact parameter gradient of ‖gᵢ‖² is zero as well.
    let norms = squared.sqrt()?;
    let positive = norms.gt(0.0)?;
    let inverse = positive.where_cond(&norms.recip()?, &norms.zeros_like()?)?;
    let mut broadcast_shape = vec![batch];
    broadcast_shape.resize(samples.rank(), 1);
    let inverse = inverse.reshape(broadcast_shape)?;
    // The direction is formed in f32 or f64, because 1/‖g‖ can overflow f16.
    let offset = gradient
        .to_dtype(inverse.dtype())?
        .broadcast_mul(&inverse)?
        .affine(step, 0.0)?
        .to_dtype(samples.dtype())?;
    let base = samples.detach();

    let plus = per_sample_output(&discriminator(&(&base + &offset)?)?, batch)?;
    let minus = per_sample_output(&discriminator(&(&base - &offset)?)?, batch)?;

    // Σᵢ 2cᵢ‖gᵢ‖ · (D⁺ᵢ − D⁻ᵢ)/(2h), shifted so that its value is the penalty's.
    let weights = (coefficients * &norms)?.affine(1.0 / step, 0.0)?;
    let difference = (plus - minus)?;
    let weights = weights.to_dtype(difference.dtype())?;
    let surrogate = (weights * difference)?.sum_all()?;
    let term = (&surrogate - surrogate.detach())?.affine(1.0, value)?;
    Ok((term, value))
}
