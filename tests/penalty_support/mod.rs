//! Helpers shared by the penalty tests: deterministic parameters and central differences.

#![allow(dead_code)]

use candle_core::{DType, Device, Shape, Tensor, Var};
use gan_losses::penalty::PenaltyOutput;
use gan_losses::Result;

/// Deterministic values in [-scale, scale) from a SplitMix64 stream.
pub fn values(seed: u64, count: usize, scale: f64) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
            scale * (2.0 * unit - 1.0)
        })
        .collect()
}

/// Builds a CPU tensor of deterministic values in [-scale, scale).
pub fn tensor<S: Into<Shape>>(seed: u64, shape: S, scale: f64, dtype: DType) -> Tensor {
    let shape = shape.into();
    let data = values(seed, shape.elem_count(), scale);
    Tensor::from_vec(data, shape, &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .expect("a CPU tensor from a vector of matching length")
}

/// Builds a variable of deterministic values in [-scale, scale).
pub fn var<S: Into<Shape>>(seed: u64, shape: S, scale: f64, dtype: DType) -> Var {
    Var::from_tensor(&tensor(seed, shape, scale, dtype)).expect("a variable from a CPU tensor")
}

/// Flattens a tensor to f64 values.
pub fn flat(tensor: &Tensor) -> Vec<f64> {
    tensor
        .flatten_all()
        .and_then(|t| t.to_dtype(DType::F64))
        .and_then(|t| t.to_vec1::<f64>())
        .expect("a float tensor")
}

/// The gradient of a penalty's term with respect to each parameter, flattened; zeros where
/// candle returns no gradient.
pub fn term_gradients(output: &PenaltyOutput, params: &[&Var]) -> Vec<Vec<f64>> {
    let gradients = output
        .term
        .backward()
        .expect("backward of the penalty term");
    params
        .iter()
        .map(|param| match gradients.get(param.as_tensor()) {
            Some(gradient) => flat(gradient),
            None => vec![0.0; param.elem_count()],
        })
        .collect()
}

/// Central differences (f(θ + h) − f(θ − h))/2h of a penalty's value with respect to every
/// element of every parameter, restoring each parameter afterwards.
pub fn central_differences<F>(value: F, params: &[&Var], step: f64) -> Vec<Vec<f64>>
where
    F: Fn() -> Result<f64>,
{
    params
        .iter()
        .map(|param| {
            let original = param.as_tensor().copy().expect("a copy of the parameter");
            let base = flat(&original);
            let mut derivatives = Vec::with_capacity(base.len());
            for index in 0..base.len() {
                let evaluate_at = |delta: f64| {
                    let mut shifted = base.clone();
                    shifted[index] += delta;
                    let shifted = Tensor::from_vec(shifted, original.shape(), &Device::Cpu)
                        .and_then(|t| t.to_dtype(original.dtype()))
                        .expect("a shifted parameter");
                    param.set(&shifted).expect("set the shifted parameter");
                    value().expect("the penalty's value")
                };
                let plus = evaluate_at(step);
                let minus = evaluate_at(-step);
                derivatives.push((plus - minus) / (2.0 * step));
            }
            param.set(&original).expect("restore the parameter");
            derivatives
        })
        .collect()
}

/// Returns the largest |a − b| over all elements, relative to max(1, the largest |b|), with
/// the index (parameter, element) where it occurs.
pub fn max_relative_gap(actual: &[Vec<f64>], expected: &[Vec<f64>]) -> (f64, (usize, usize)) {
    let scale = expected
        .iter()
        .flatten()
        .fold(1.0f64, |acc, value| acc.max(value.abs()));
    let mut worst = (0.0, (0, 0));
    for (p, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(a.len(), e.len(), "gradient lengths of parameter {p}");
        for (i, (x, y)) in a.iter().zip(e).enumerate() {
            let gap = (x - y).abs() / scale;
            if gap > worst.0 || gap.is_nan() {
                worst = (gap, (p, i));
            }
        }
    }
    worst
}

/// Asserts that two gradient sets agree within `tolerance` relative to the largest expected
/// magnitude (at least 1), naming the worst element.
pub fn assert_gradients_close(
    actual: &[Vec<f64>],
    expected: &[Vec<f64>],
    tolerance: f64,
    what: &str,
) {
    let (gap, (p, i)) = max_relative_gap(actual, expected);
    assert!(
        gap <= tolerance,
        "{what}: parameter {p} element {i}: got {} expected {} (relative gap {gap:e} > {tolerance:e})",
        actual[p][i],
        expected[p][i]
    );
}
