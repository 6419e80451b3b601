//! Group-level checks of terms that no public loss builds yet (squared, linear), against the
//! plain path.

use candle_core::{DType, Device, Tensor, Var};

use super::reduce_group;
use crate::batch::{Batch, REAL};
use crate::group::Group;
use crate::options::Reduction;
use crate::term::Term;

fn value_and_gradient(group: &Group<'_>, logits: &Var, fused: bool) -> (f64, Vec<f64>) {
    let value = if fused {
        reduce_group(group, Reduction::Mean)
            .expect("fused reduction")
            .expect("the CPU has a fused kernel")
    } else {
        group
            .reduce_plain(Reduction::Mean)
            .expect("plain reduction")
    };
    let grads = value.backward().expect("backward");
    let gradient = grads
        .get(logits.as_tensor())
        .expect("gradient")
        .to_dtype(DType::F64)
        .and_then(|g| g.to_vec1::<f64>())
        .expect("gradient values");
    let value = value
        .to_dtype(DType::F64)
        .and_then(|v| v.to_scalar::<f64>())
        .expect("value");
    (value, gradient)
}

#[test]
fn squared_and_linear_match_plain() {
    let data: Vec<f32> = (0..5000)
        .map(|i| ((i * 37) % 101) as f32 / 10.0 - 5.0)
        .collect();
    let weights: Vec<f32> = (0..5000).map(|i| (i % 4) as f32 * 0.5).collect();
    let mask: Vec<u8> = (0..5000).map(|i| u8::from(i % 7 != 0)).collect();
    let device = Device::Cpu;
    for dtype in [DType::F64, DType::F32, DType::BF16] {
        let logits = Tensor::new(data.as_slice(), &device)
            .and_then(|t| t.to_dtype(dtype))
            .and_then(|t| Var::from_tensor(&t))
            .expect("logits");
        let weights = Tensor::new(weights.as_slice(), &device)
            .and_then(|t| t.to_dtype(dtype))
            .expect("weights");
        let mask = Tensor::new(mask.as_slice(), &device).expect("mask");
        let batch = Batch::new(logits.as_tensor())
            .with_weights(&weights)
            .with_mask(&mask);
        for term in [
            Term::Squared { target: 1.0 },
            Term::Squared { target: -0.5 },
            Term::Linear { sign: -1.0 },
        ] {
            let group = Group {
                batch,
                names: REAL,
                term,
                scale: 0.5,
            };
            let (fused, fused_gradient) = value_and_gradient(&group, &logits, true);
            let (plain, plain_gradient) = value_and_gradient(&group, &logits, false);
            let rel = if dtype == DType::BF16 { 1e-2 } else { 1e-5 };
            // The mean of |terms| is about 1 and the linear terms cancel, so the plain path's
            // f32 sum is off by about 1e-6 absolute.
            assert!(
                (fused - plain).abs() <= rel * (plain.abs() + 1.0),
                "{term:?} {dtype:?}: fused {fused}, plain {plain}"
            );
            for (index, (a, b)) in fused_gradient.iter().zip(&plain_gradient).enumerate() {
                assert!(
                    (a - b).abs() <= rel * b.abs() + 1e-9,
                    "{term:?} {dtype:?} gradient[{index}]: fused {a}, plain {b}"
                );
            }
        }
    }
}
