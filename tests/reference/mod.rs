//! f64 reference formulas and checks shared by the loss-family tests.

#![allow(dead_code)]

use candle_core::{Device, Tensor, Var};
use gan_losses::{Batch, Reduction};

/// softplus(x) = ln(1 + eˣ), in its stable form.
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Binary cross-entropy of logit `x` with target `y`.
pub fn bce(x: f64, y: f64) -> f64 {
    y * softplus(-x) + (1.0 - y) * softplus(x)
}

pub fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// One batch in f64: outputs, optional per-sample weights, optional mask (0 excludes).
#[derive(Debug, Clone)]
pub struct RefBatch {
    pub x: Vec<f64>,
    pub w: Option<Vec<f64>>,
    pub m: Option<Vec<f64>>,
}

impl RefBatch {
    pub fn new(x: Vec<f64>) -> Self {
        Self {
            x,
            w: None,
            m: None,
        }
    }

    pub fn weights(mut self, w: Vec<f64>) -> Self {
        self.w = Some(w);
        self
    }

    pub fn mask(mut self, m: Vec<f64>) -> Self {
        self.m = Some(m);
        self
    }

    pub fn with_x(&self, x: Vec<f64>) -> Self {
        Self { x, ..self.clone() }
    }

    pub fn included(&self, i: usize) -> bool {
        self.m.as_ref().is_none_or(|m| m[i] != 0.0)
    }

    pub fn weight(&self, i: usize) -> f64 {
        self.w.as_ref().map_or(1.0, |w| w[i])
    }

    /// Count of included elements, at least 1.
    pub fn divisor(&self) -> f64 {
        let count = (0..self.x.len()).filter(|&i| self.included(i)).count();
        count.max(1) as f64
    }

    /// Unweighted mean over included elements (0 when none is included).
    pub fn mean(&self) -> f64 {
        let sum: f64 = (0..self.x.len())
            .filter(|&i| self.included(i))
            .map(|i| self.x[i])
            .sum();
        sum / self.divisor()
    }

    /// scale·Σ w·term(x) over included elements, divided by the included count under Mean.
    pub fn reduce(&self, reduction: Reduction, scale: f64, term: impl Fn(f64) -> f64) -> f64 {
        let sum: f64 = (0..self.x.len())
            .filter(|&i| self.included(i))
            .map(|i| self.weight(i) * term(self.x[i]))
            .sum();
        match reduction {
            Reduction::Mean => scale * sum / self.divisor(),
            _ => scale * sum,
        }
    }

    /// Returns the batch with `by` subtracted from every output.
    pub fn shifted(&self, by: f64) -> Self {
        self.with_x(self.x.iter().map(|x| x - by).collect())
    }
}

/// Builds an f64 tensor of the given shape.
pub fn tensor(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape, &Device::Cpu).unwrap()
}

/// Builds an f64 variable of the given shape.
pub fn var(values: &[f64], shape: &[usize]) -> Var {
    Var::from_tensor(&tensor(values, shape)).unwrap()
}

pub fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(candle_core::DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

pub fn flat(t: &Tensor) -> Vec<f64> {
    t.to_dtype(candle_core::DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// Asserts |actual − expected| ≤ atol + rtol·|expected|, naming the value.
pub fn assert_close(actual: f64, expected: f64, rtol: f64, what: &str) {
    let gap = (actual - expected).abs();
    let limit = 1e-12 + rtol * expected.abs();
    assert!(
        gap <= limit,
        "{what}: got {actual}, expected {expected}, gap {gap:e} > {limit:e}"
    );
}

/// Asserts two slices agree elementwise, naming the worst index.
pub fn assert_all_close(actual: &[f64], expected: &[f64], atol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    let mut worst = (0, 0.0f64);
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let gap = (a - e).abs();
        if gap > worst.1 || gap.is_nan() {
            worst = (i, gap);
        }
    }
    let (i, gap) = worst;
    assert!(
        gap <= atol,
        "{what}: index {i} got {}, expected {}, gap {gap:e} > {atol:e}",
        actual[i],
        expected[i]
    );
}

/// Central finite differences of `f` at `x` with step `h`.
pub fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let mut plus = x.to_vec();
            let mut minus = x.to_vec();
            plus[i] += h;
            minus[i] -= h;
            (f(&plus) - f(&minus)) / (2.0 * h)
        })
        .collect()
}

/// Checks the autograd gradients of `loss(real, fake)` against central differences of the f64
/// reference `reference(real_values, fake_values)`.
pub fn check_gradients(
    real: (&[f64], &[usize]),
    fake: (&[f64], &[usize]),
    loss: impl Fn(&Tensor, &Tensor) -> Tensor,
    reference: impl Fn(&[f64], &[f64]) -> f64,
    what: &str,
) {
    let real_var = var(real.0, real.1);
    let fake_var = var(fake.0, fake.1);
    let value = loss(real_var.as_tensor(), fake_var.as_tensor());
    assert_close(scalar(&value), reference(real.0, fake.0), 1e-10, what);

    let grads = value.backward().unwrap();
    let zeros_real = vec![0.0; real.0.len()];
    let zeros_fake = vec![0.0; fake.0.len()];
    let real_grad = grads.get(&real_var).map_or(zeros_real, flat);
    let fake_grad = grads.get(&fake_var).map_or(zeros_fake, flat);

    let h = 1e-6;
    let real_fd = central_difference(|r| reference(r, fake.0), real.0, h);
    let fake_fd = central_difference(|f| reference(real.0, f), fake.0, h);
    assert_all_close(
        &real_grad,
        &real_fd,
        1e-6,
        &format!("{what}: real gradient"),
    );
    assert_all_close(
        &fake_grad,
        &fake_fd,
        1e-6,
        &format!("{what}: fake gradient"),
    );
}

/// Wraps `x` in a batch with optional weights and mask.
pub fn batch_of<'a>(x: &'a Tensor, w: Option<&'a Tensor>, m: Option<&'a Tensor>) -> Batch<'a> {
    let mut batch = Batch::new(x);
    if let Some(w) = w {
        batch = batch.with_weights(w);
    }
    if let Some(m) = m {
        batch = batch.with_mask(m);
    }
    batch
}

/// Checks the autograd gradients of `loss` on batches built from `r` and `f` (with their weights
/// and masks) against central differences of `reference`.
pub fn check_batch_gradients(
    r: &RefBatch,
    f: &RefBatch,
    shapes: (&[usize], &[usize]),
    loss: impl Fn(&Batch<'_>, &Batch<'_>) -> Tensor,
    reference: impl Fn(&RefBatch, &RefBatch) -> f64,
    what: &str,
) {
    let w_r = r.w.as_ref().map(|w| tensor(w, shapes.0));
    let m_r = r.m.as_ref().map(|m| tensor(m, shapes.0));
    let w_f = f.w.as_ref().map(|w| tensor(w, shapes.1));
    let m_f = f.m.as_ref().map(|m| tensor(m, shapes.1));
    check_gradients(
        (&r.x, shapes.0),
        (&f.x, shapes.1),
        |real, fake| {
            loss(
                &batch_of(real, w_r.as_ref(), m_r.as_ref()),
                &batch_of(fake, w_f.as_ref(), m_f.as_ref()),
            )
        },
        |rx, fx| reference(&r.with_x(rx.to_vec()), &f.with_x(fx.to_vec())),
        what,
    );
}
