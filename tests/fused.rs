//! The fused CPU kernels against the plain candle-ops path, f64 finite differences and f64
//! references: values and gradients for every loss option and dtype, determinism across thread
//! counts, and accuracy of the summation at large N.

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::{
    Batch, BceConfig, DiscriminatorLoss, GeneratorForm, GeneratorLoss, HingeConfig, Input, Kernel,
    Reduction, WeightedBceLoss,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DTYPES: [DType; 4] = [DType::F64, DType::F32, DType::BF16, DType::F16];

/// Relative tolerance between the fused and the plain path. Both compute half types in f32 and
/// round once to the half type, so they may differ by about one ulp of that type.
fn relative_tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-10,
        DType::F32 => 2e-5,
        DType::F16 => 2e-3,
        _ => 1.6e-2,
    }
}

/// Asserts |a − b| ≤ rel·max(|a|, |b|) + abs elementwise, with NaN equal to NaN and infinities
/// equal only to themselves; `skip` marks elements not compared. The message names the worst
/// element.
fn assert_close(what: &str, got: &[f64], expected: &[f64], rel: f64, abs: f64, skip: &[bool]) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths differ");
    let mut worst: Option<(usize, f64)> = None;
    for (index, (&a, &b)) in got.iter().zip(expected).enumerate() {
        if skip.get(index).copied().unwrap_or(false) {
            continue;
        }
        if a.is_nan() || b.is_nan() {
            assert!(
                a.is_nan() && b.is_nan(),
                "{what}[{index}]: fused {a}, plain {b}"
            );
            continue;
        }
        if a.is_infinite() || b.is_infinite() {
            assert_eq!(a, b, "{what}[{index}]: fused {a}, plain {b}");
            continue;
        }
        let excess = (a - b).abs() - (rel * a.abs().max(b.abs()) + abs);
        if excess > 0.0 && worst.is_none_or(|(_, e)| excess > e) {
            worst = Some((index, excess));
        }
    }
    if let Some((index, _)) = worst {
        panic!(
            "{what}[{index}]: fused {}, plain {}, gap {} (rel {rel}, abs {abs})",
            got[index],
            expected[index],
            (got[index] - expected[index]).abs()
        );
    }
}

fn values(tensor: &Tensor) -> Vec<f64> {
    tensor
        .to_dtype(DType::F64)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f64>())
        .expect("tensor converts to f64")
}

/// One batch's data: logits, optional weights and mask, and whether the logits are strided.
#[derive(Debug, Clone)]
struct BatchData {
    logits: Vec<f64>,
    weights: Option<Vec<f64>>,
    mask: Option<Vec<bool>>,
    strided: bool,
}

/// Tensors of one batch in `dtype`. Strided logits are the transpose of a [2, n/2] tensor.
struct BatchTensors {
    logits: Var,
    weights: Option<Tensor>,
    mask: Option<Tensor>,
}

impl BatchData {
    fn tensors(&self, dtype: DType) -> BatchTensors {
        let device = Device::Cpu;
        let n = self.logits.len();
        let shape_of = |data: &[f64]| -> Tensor {
            let tensor = Tensor::new(data, &device)
                .and_then(|t| t.to_dtype(dtype))
                .expect("tensor");
            if self.strided {
                tensor
                    .reshape((2, n / 2))
                    .and_then(|t| t.t())
                    .expect("transpose")
            } else {
                tensor.reshape((n, 1)).expect("reshape")
            }
        };
        let logits = shape_of(&self.logits);
        if self.strided {
            assert!(!logits.is_contiguous());
        }
        BatchTensors {
            logits: Var::from_tensor(&logits).expect("var"),
            weights: self.weights.as_deref().map(shape_of),
            mask: self.mask.as_ref().map(|mask| {
                let ones: Vec<f64> = mask.iter().map(|&keep| f64::from(u8::from(keep))).collect();
                shape_of(&ones)
            }),
        }
    }
}

impl BatchTensors {
    fn batch(&self) -> Batch<'_> {
        let mut batch = Batch::new(self.logits.as_tensor());
        if let Some(weights) = &self.weights {
            batch = batch.with_weights(weights);
        }
        if let Some(mask) = &self.mask {
            batch = batch.with_mask(mask);
        }
        batch
    }
}

/// Returns the gradient of `var` flattened in the order of its batch's data (strided logits are a
/// transpose, so their gradient is transposed back).
fn gradient_in_data_order(
    grads: &candle_core::backprop::GradStore,
    var: &Var,
    strided: bool,
    dtype: DType,
) -> Vec<f64> {
    match grads.get(var.as_tensor()) {
        Some(gradient) => {
            assert_eq!(gradient.dtype(), dtype);
            assert_eq!(gradient.dims(), var.dims());
            if strided {
                values(&gradient.t().expect("transpose"))
            } else {
                values(gradient)
            }
        }
        // candle drops the graph below a factor of exactly 0, so a group weight of 0 leaves
        // the plain path without a gradient, which is a gradient of 0.
        None => vec![0.0; var.elem_count()],
    }
}

/// The discriminator loss, its gradients and the generator loss and gradient, as f64.
struct Outcome {
    d_loss: f64,
    d_real: Vec<f64>,
    d_fake: Vec<f64>,
    g_loss: f64,
    g_fake: Vec<f64>,
}

fn evaluate<L: DiscriminatorLoss + GeneratorLoss>(
    loss: &L,
    real: &BatchData,
    fake: &BatchData,
    dtype: DType,
) -> Outcome {
    let r = real.tensors(dtype);
    let f = fake.tensors(dtype);
    let d = loss
        .discriminator_loss_with(&r.batch(), &f.batch())
        .expect("discriminator loss");
    assert_eq!(d.dtype(), dtype);
    let grads = d.backward().expect("backward");
    // candle drops the graph below a factor of exactly 0, so a group weight of 0 leaves the
    // plain path without a gradient, which is a gradient of 0.
    let d_real = gradient_in_data_order(&grads, &r.logits, real.strided, dtype);
    let d_fake = gradient_in_data_order(&grads, &f.logits, fake.strided, dtype);

    let g = loss
        .generator_loss_with(Some(&r.batch()), &f.batch())
        .expect("generator loss");
    let grads = g.backward().expect("backward");
    let g_fake = gradient_in_data_order(&grads, &f.logits, fake.strided, dtype);
    Outcome {
        d_loss: values(&d)[0],
        d_real,
        d_fake,
        g_loss: values(&g)[0],
        g_fake,
    }
}

/// Compares the fused and the plain build of one loss in every dtype.
fn compare<L: DiscriminatorLoss + GeneratorLoss>(
    fused: &L,
    plain: &L,
    real: &BatchData,
    fake: &BatchData,
) {
    for dtype in DTYPES {
        let a = evaluate(fused, real, fake, dtype);
        let b = evaluate(plain, real, fake, dtype);
        let rel = relative_tolerance(dtype);
        let magnitude = real
            .logits
            .iter()
            .chain(&fake.logits)
            .filter(|x| x.is_finite())
            .fold(1.0f64, |m, x| m.max(x.abs()));
        let value_abs = rel * magnitude;
        let what = |name: &str| format!("{name} {dtype:?}");
        assert_close(
            &what("d loss"),
            &[a.d_loss],
            &[b.d_loss],
            rel,
            value_abs,
            &[],
        );
        assert_close(
            &what("g loss"),
            &[a.g_loss],
            &[b.g_loss],
            rel,
            value_abs,
            &[],
        );

        // NaN inputs are skipped: their gradients differ in NaN-ness between the paths.
        let skipped = |x: &f64| x.is_nan();
        let nan_real: Vec<bool> = real.logits.iter().map(skipped).collect();
        let nan_fake: Vec<bool> = fake.logits.iter().map(skipped).collect();
        let scale = |g: &[f64]| {
            g.iter()
                .filter(|v| v.is_finite())
                .fold(0.0f64, |m, v| m.max(v.abs()))
        };
        let real_abs = rel * scale(&b.d_real);
        let fake_abs = rel * scale(&b.d_fake);
        let g_abs = rel * scale(&b.g_fake);
        assert_close(
            &what("d grad real"),
            &a.d_real,
            &b.d_real,
            rel,
            real_abs,
            &nan_real,
        );
        assert_close(
            &what("d grad fake"),
            &a.d_fake,
            &b.d_fake,
            rel,
            fake_abs,
            &nan_fake,
        );
        assert_close(
            &what("g grad fake"),
            &a.g_fake,
            &b.g_fake,
            rel,
            g_abs,
            &nan_fake,
        );
    }
}

fn logit_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        12 => -30.0..30.0f64,
        1 => prop::sample::select(vec![
            100.0,
            -100.0,
            300.0,
            -300.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]),
    ]
}

fn probability_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        12 => 0.0..=1.0f64,
        1 => prop::sample::select(vec![0.0, 1.0, 1e-30, 1.0 - 1e-7, f64::NAN]),
    ]
}

/// Generates a batch of 1 to 118 logits (an even count of at least 4 when strided), with optional weights and mask.
fn batch_data(value: BoxedStrategy<f64>) -> impl Strategy<Value = BatchData> {
    (2usize..60, any::<bool>()).prop_flat_map(move |(half, strided)| {
        let n = if strided { 2 * half } else { 2 * half - 3 };
        (
            prop::collection::vec(value.clone(), n),
            prop::option::of(prop::collection::vec(0.0..3.0f64, n)),
            prop::option::of(prop::collection::vec(any::<bool>(), n)),
        )
            .prop_map(move |(logits, weights, mask)| BatchData {
                logits,
                weights,
                mask,
                strided,
            })
    })
}

fn reduction() -> impl Strategy<Value = Reduction> {
    prop::sample::select(vec![Reduction::Mean, Reduction::Sum])
}

fn group_weights() -> impl Strategy<Value = (f64, f64)> {
    prop::sample::select(vec![(1.0, 1.0), (2.5, 0.5), (0.0, 1.0)])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn bce_fused_matches_plain(
        real in batch_data(logit_value().boxed()),
        fake in batch_data(logit_value().boxed()),
        reduction in reduction(),
        (real_weight, fake_weight) in group_weights(),
        labels in 0usize..3,
        saturating in any::<bool>(),
    ) {
        let mut config = BceConfig::default()
            .with_reduction(reduction)
            .with_group_weights(real_weight, fake_weight);
        config = match labels {
            0 => config,
            1 => config.with_label_smoothing(0.1),
            _ => config.with_targets(0.8, 0.25),
        };
        if saturating {
            config = config.with_generator(GeneratorForm::Saturating);
        }
        let fused = config.build().expect("valid options");
        let plain = config.with_kernel(Kernel::Plain).build().expect("valid options");
        compare(&fused, &plain, &real, &fake);
    }

    #[test]
    fn weighted_bce_fused_matches_plain(
        real in batch_data(logit_value().boxed()),
        fake in batch_data(logit_value().boxed()),
        reduction in reduction(),
    ) {
        let config = BceConfig::default()
            .with_reduction(reduction)
            .with_group_weights(3.0, 0.75);
        let fused = WeightedBceLoss::from_config(config).expect("valid options");
        let plain = WeightedBceLoss::from_config(config.with_kernel(Kernel::Plain))
            .expect("valid options");
        compare(&fused, &plain, &real, &fake);
    }

    #[test]
    fn probability_bce_fused_matches_plain(
        real in batch_data(probability_value().boxed()),
        fake in batch_data(probability_value().boxed()),
        reduction in reduction(),
        smoothing in any::<bool>(),
        saturating in any::<bool>(),
    ) {
        let mut config = BceConfig::default()
            .with_input(Input::Probabilities)
            .with_reduction(reduction);
        if smoothing {
            config = config.with_label_smoothing(0.2);
        }
        if saturating {
            config = config.with_generator(GeneratorForm::Saturating);
        }
        let fused = config.build().expect("valid options");
        let plain = config.with_kernel(Kernel::Plain).build().expect("valid options");
        compare(&fused, &plain, &real, &fake);
    }

    #[test]
    fn hinge_fused_matches_plain(
        real in batch_data(logit_value().boxed()),
        fake in batch_data(logit_value().boxed()),
        reduction in reduction(),
        (real_weight, fake_weight) in group_weights(),
        (real_margin, fake_margin) in prop::sample::select(vec![(1.0, 1.0), (0.5, 2.0)]),
    ) {
        let config = HingeConfig::default()
            .with_reduction(reduction)
            .with_margins(real_margin, fake_margin)
            .with_group_weights(real_weight, fake_weight);
        let fused = config.build().expect("valid options");
        let plain = config.with_kernel(Kernel::Plain).build().expect("valid options");
        compare(&fused, &plain, &real, &fake);
    }
}

/// Central differences of the fused f64 loss with respect to each logit.
fn finite_differences(
    loss: &impl DiscriminatorLoss,
    real: &[f64],
    fake: &[f64],
    weights: &Tensor,
    mask: &Tensor,
) -> (Vec<f64>, Vec<f64>) {
    let device = Device::Cpu;
    let evaluate = |r: &[f64], f: &[f64]| -> f64 {
        let r = Tensor::new(r, &device).expect("tensor");
        let f = Tensor::new(f, &device).expect("tensor");
        let real = Batch::new(&r).with_weights(weights).with_mask(mask);
        loss.discriminator_loss_with(&real, &Batch::new(&f))
            .and_then(|l| Ok(l.to_scalar::<f64>()?))
            .expect("loss")
    };
    let h = 1e-6;
    let derivative = |which: usize, index: usize| -> f64 {
        let mut r = real.to_vec();
        let mut f = fake.to_vec();
        let target = if which == 0 { &mut r } else { &mut f };
        target[index] += h;
        let up = evaluate(&r, &f);
        let target = if which == 0 { &mut r } else { &mut f };
        target[index] -= 2.0 * h;
        let down = evaluate(&r, &f);
        (up - down) / (2.0 * h)
    };
    (
        (0..real.len()).map(|i| derivative(0, i)).collect(),
        (0..fake.len()).map(|i| derivative(1, i)).collect(),
    )
}

fn check_against_finite_differences(loss: &impl DiscriminatorLoss, real: &[f64], fake: &[f64]) {
    let device = Device::Cpu;
    let weights: Vec<f64> = (0..real.len()).map(|i| 0.5 + (i % 3) as f64).collect();
    let mask: Vec<f64> = (0..real.len())
        .map(|i| f64::from(u8::from(i % 4 != 1)))
        .collect();
    let weights = Tensor::new(weights.as_slice(), &device).expect("tensor");
    let mask = Tensor::new(mask.as_slice(), &device).expect("tensor");

    let r = Var::new(real, &device).expect("var");
    let f = Var::new(fake, &device).expect("var");
    let batch = Batch::new(r.as_tensor())
        .with_weights(&weights)
        .with_mask(&mask);
    let value = loss
        .discriminator_loss_with(&batch, &Batch::new(f.as_tensor()))
        .expect("loss");
    let grads = value.backward().expect("backward");
    let real_grad = values(grads.get(r.as_tensor()).expect("real gradient"));
    let fake_grad = values(grads.get(f.as_tensor()).expect("fake gradient"));

    let (real_fd, fake_fd) = finite_differences(loss, real, fake, &weights, &mask);
    assert_close("real gradient", &real_grad, &real_fd, 1e-6, 1e-8, &[]);
    assert_close("fake gradient", &fake_grad, &fake_fd, 1e-6, 1e-8, &[]);
}

#[test]
fn backward_matches_finite_differences() {
    let real = [-4.0, -1.3, -0.2, 0.3, 0.9, 2.5, 7.0, 15.0];
    let fake = [-9.0, -2.2, -0.6, 0.4, 1.7, 3.1];
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let bce = BceConfig::default().with_reduction(reduction);
        check_against_finite_differences(&bce.build().expect("valid"), &real, &fake);
        let smoothed = bce.with_label_smoothing(0.1).with_group_weights(2.0, 0.5);
        check_against_finite_differences(&smoothed.build().expect("valid"), &real, &fake);
        let targets = bce.with_targets(0.7, 0.2);
        check_against_finite_differences(&targets.build().expect("valid"), &real, &fake);

        let hinge = HingeConfig::default()
            .with_reduction(reduction)
            .with_margins(0.5, 2.0);
        check_against_finite_differences(&hinge.build().expect("valid"), &real, &fake);
    }

    let real_p = [0.02, 0.1, 0.35, 0.5, 0.61, 0.8, 0.93, 0.99];
    let fake_p = [0.05, 0.2, 0.45, 0.55, 0.7, 0.97];
    let probability = BceConfig::default()
        .with_input(Input::Probabilities)
        .with_label_smoothing(0.1);
    check_against_finite_differences(&probability.build().expect("valid"), &real_p, &fake_p);
}

/// Loss and gradients of a BCE loss on a large batch, as raw bits, computed inside `pool`.
fn bits_in_pool(pool: &rayon::ThreadPool, dtype: DType) -> (Vec<u64>, Vec<u64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 300_001;
    let real: Vec<f32> = (0..n).map(|_| rng.random_range(-8.0..8.0)).collect();
    let fake: Vec<f32> = (0..n).map(|_| rng.random_range(-8.0..8.0)).collect();
    let weights: Vec<f32> = (0..n).map(|_| rng.random_range(0.0..2.0)).collect();
    pool.install(|| {
        let device = Device::Cpu;
        let to = |v: &[f32]| {
            Tensor::new(v, &device)
                .and_then(|t| t.to_dtype(dtype))
                .expect("tensor")
        };
        let r = Var::from_tensor(&to(&real)).expect("var");
        let f = Var::from_tensor(&to(&fake)).expect("var");
        let w = to(&weights);
        let loss = BceConfig::default()
            .with_label_smoothing(0.1)
            .build()
            .expect("valid");
        let value = loss
            .discriminator_loss_with(
                &Batch::new(r.as_tensor()).with_weights(&w),
                &Batch::new(f.as_tensor()),
            )
            .expect("loss");
        let grads = value.backward().expect("backward");
        let mut gradient = values(grads.get(r.as_tensor()).expect("gradient"));
        gradient.extend(values(grads.get(f.as_tensor()).expect("gradient")));
        (
            values(&value).iter().map(|v| v.to_bits()).collect(),
            gradient.iter().map(|v| v.to_bits()).collect(),
        )
    })
}

#[test]
fn results_identical_across_thread_counts() {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    for dtype in [DType::F32, DType::BF16, DType::F64] {
        let (loss_one, grad_one) = bits_in_pool(&one, dtype);
        let (loss_two, grad_two) = bits_in_pool(&two, dtype);
        assert_eq!(loss_one, loss_two, "loss in {dtype:?}");
        assert!(grad_one == grad_two, "gradients in {dtype:?}");
    }
}

/// f64 reference of the mean BCE (target 1) of f32 logits.
fn bce_reference(logits: &[f32]) -> f64 {
    let mut sum = 0.0;
    let mut compensation = 0.0;
    for &x in logits {
        let x = f64::from(x);
        let term = (-x).max(0.0) + (-x.abs()).exp().ln_1p();
        let next = sum + term;
        compensation += if f64::abs(sum) >= term.abs() {
            (sum - next) + term
        } else {
            (term - next) + sum
        };
        sum = next;
    }
    (sum + compensation) / logits.len() as f64
}

fn f32_ulps(value: f32, reference: f64) -> i64 {
    (i64::from(value.to_bits() as i32) - i64::from((reference as f32).to_bits() as i32)).abs()
}

fn check_large_mean(n: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let logits: Vec<f32> = (0..n).map(|_| rng.random_range(-6.0..4.0)).collect();
    let reference = bce_reference(&logits);

    let tensor = Tensor::new(logits.as_slice(), &Device::Cpu).expect("tensor");
    let loss = BceConfig::default().build().expect("valid");
    let fused = loss
        .generator_loss(&tensor)
        .and_then(|l| Ok(l.to_scalar::<f32>()?))
        .expect("loss");
    let error = f32_ulps(fused, reference);
    assert!(
        error <= 2,
        "fused {fused}, reference {reference}: {error} ulps"
    );

    // A sequential f32 sum of the exact terms is far off at this size, so the check above
    // depends on the summation.
    let naive: f32 = logits
        .iter()
        .map(|&x| {
            let x = f64::from(x);
            ((-x).max(0.0) + (-x.abs()).exp().ln_1p()) as f32
        })
        .sum::<f32>()
        / n as f32;
    assert!(
        f32_ulps(naive, reference) > 20,
        "naive sum {naive} is accurate"
    );
}

#[test]
fn large_mean_within_two_ulps() {
    check_large_mean(1 << 22);
}

#[test]
#[ignore = "1e8 logits: run with `cargo test --release --test fused -- --ignored`"]
fn huge_mean_within_two_ulps() {
    check_large_mean(100_000_000);
}
