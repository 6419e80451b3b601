//! Least-squares and Wasserstein losses against f64 references.

mod reference;

use candle_core::{DType, Device, Tensor};
use gan_losses::{
    Batch, DiscriminatorLoss, Error, GeneratorLoss, Kernel, LeastSquaresConfig, LeastSquaresLoss,
    Reduction, WassersteinConfig, WassersteinLoss,
};
use reference::{
    assert_all_close, assert_close, check_batch_gradients, flat, scalar, tensor, RefBatch,
};

const SHAPES: [&[usize]; 3] = [&[4], &[4, 1], &[2, 1, 2, 1]];

fn real_values() -> RefBatch {
    RefBatch::new(vec![1.5, -0.25, 0.75, 3.0])
}

fn fake_values() -> RefBatch {
    RefBatch::new(vec![-1.0, 0.5, 2.0, 0.0])
}

/// Returns the option cases every test loops over: plain, weighted, masked, and both.
fn option_cases() -> Vec<(RefBatch, RefBatch)> {
    let (r, f) = (real_values(), fake_values());
    vec![
        (r.clone(), f.clone()),
        (
            r.clone().weights(vec![0.5, 2.0, 1.0, 0.0]),
            f.clone().weights(vec![1.0, 3.0, 0.25, 1.0]),
        ),
        (
            r.clone().mask(vec![1.0, 0.0, 1.0, 1.0]),
            f.clone().mask(vec![0.0, 1.0, 1.0, 0.0]),
        ),
        (
            r.weights(vec![2.0, 1.0, 0.5, 1.0])
                .mask(vec![1.0, 1.0, 0.0, 1.0]),
            f.weights(vec![1.0, 0.5, 2.0, 4.0])
                .mask(vec![1.0, 1.0, 1.0, 0.0]),
        ),
    ]
}

/// Tensors of one reference batch in the given shape.
struct Tensors {
    x: Tensor,
    w: Option<Tensor>,
    m: Option<Tensor>,
}

impl Tensors {
    fn new(batch: &RefBatch, shape: &[usize]) -> Self {
        Self {
            x: tensor(&batch.x, shape),
            w: batch.w.as_ref().map(|w| tensor(w, shape)),
            m: batch.m.as_ref().map(|m| tensor(m, shape)),
        }
    }

    fn batch(&self) -> Batch<'_> {
        let mut batch = Batch::new(&self.x);
        if let Some(w) = &self.w {
            batch = batch.with_weights(w);
        }
        if let Some(m) = &self.m {
            batch = batch.with_mask(m);
        }
        batch
    }
}

fn lsgan_reference(config: &LeastSquaresConfig, r: &RefBatch, f: &RefBatch) -> (f64, f64) {
    let (a, b, c) = (
        config.fake_target,
        config.real_target,
        config.generator_target,
    );
    let d = r.reduce(config.reduction, 0.5 * config.real_weight, |x| {
        (x - b).powi(2)
    }) + f.reduce(config.reduction, 0.5 * config.fake_weight, |x| {
        (x - a).powi(2)
    });
    let g = f.reduce(config.reduction, 0.5, |x| (x - c).powi(2));
    (d, g)
}

fn wgan_reference(config: &WassersteinConfig, r: &RefBatch, f: &RefBatch) -> (f64, f64) {
    let d = f.reduce(config.reduction, config.fake_weight, |x| x)
        - r.reduce(config.reduction, config.real_weight, |x| x);
    let g = f.reduce(config.reduction, -1.0, |x| x);
    (d, g)
}

fn lsgan_configs() -> Vec<LeastSquaresConfig> {
    let base = LeastSquaresConfig::default();
    vec![
        base,
        base.with_targets(0.5, -1.0).with_generator_target(0.0),
        base.with_group_weights(2.0, 0.5),
        base.with_reduction(Reduction::Sum).with_targets(1.0, -1.0),
        base.with_kernel(Kernel::Plain).with_group_weights(0.0, 3.0),
    ]
}

fn wgan_configs() -> Vec<WassersteinConfig> {
    let base = WassersteinConfig::default();
    vec![
        base,
        base.with_group_weights(2.0, 0.5),
        base.with_reduction(Reduction::Sum),
        base.with_kernel(Kernel::Plain).with_group_weights(1.0, 0.0),
    ]
}

#[test]
fn lsgan_matches_reference() {
    for config in lsgan_configs() {
        let loss = config.build().unwrap();
        for (r, f) in option_cases() {
            for shape in SHAPES {
                let (real, fake) = (Tensors::new(&r, shape), Tensors::new(&f, shape));
                let (d, g) = lsgan_reference(&config, &r, &f);
                let what = format!("{config:?} {shape:?} {r:?} {f:?}");
                let d_loss = loss
                    .discriminator_loss_with(&real.batch(), &fake.batch())
                    .unwrap();
                assert_eq!(d_loss.dims(), &[] as &[usize]);
                assert_close(scalar(&d_loss), d, 1e-12, &format!("D {what}"));
                let g_loss = loss.generator_loss_with(None, &fake.batch()).unwrap();
                assert_close(scalar(&g_loss), g, 1e-12, &format!("G {what}"));
            }
        }
    }
}

#[test]
fn wgan_matches_reference() {
    for config in wgan_configs() {
        let loss = config.build().unwrap();
        for (r, f) in option_cases() {
            for shape in SHAPES {
                let (real, fake) = (Tensors::new(&r, shape), Tensors::new(&f, shape));
                let (d, g) = wgan_reference(&config, &r, &f);
                let what = format!("{config:?} {shape:?} {r:?} {f:?}");
                let d_loss = loss
                    .discriminator_loss_with(&real.batch(), &fake.batch())
                    .unwrap();
                assert_close(scalar(&d_loss), d, 1e-12, &format!("D {what}"));
                let g_loss = loss.generator_loss_with(None, &fake.batch()).unwrap();
                assert_close(scalar(&g_loss), g, 1e-12, &format!("G {what}"));
            }
        }
    }
}

#[test]
fn lsgan_and_wgan_unequal_batch_sizes() {
    let r = RefBatch::new(vec![0.5, 1.5]);
    let f = RefBatch::new(vec![-1.0, 0.0, 2.5]);
    let real = tensor(&r.x, &[2, 1]);
    let fake = tensor(&f.x, &[3, 1]);

    let config = LeastSquaresConfig::default();
    let d = LeastSquaresLoss::new()
        .discriminator_loss(&real, &fake)
        .unwrap();
    assert_close(
        scalar(&d),
        lsgan_reference(&config, &r, &f).0,
        1e-12,
        "LSGAN D",
    );

    let config = WassersteinConfig::default();
    let d = WassersteinLoss::new()
        .discriminator_loss(&real, &fake)
        .unwrap();
    assert_close(
        scalar(&d),
        wgan_reference(&config, &r, &f).0,
        1e-12,
        "WGAN D",
    );
}

#[test]
fn lsgan_gradients_match_finite_differences() {
    let shapes: (&[usize], &[usize]) = (&[4, 1], &[4, 1]);
    for config in lsgan_configs() {
        let loss = config.build().unwrap();
        for (r, f) in option_cases() {
            check_batch_gradients(
                &r,
                &f,
                shapes,
                |real, fake| loss.discriminator_loss_with(real, fake).unwrap(),
                |r, f| lsgan_reference(&config, r, f).0,
                &format!("LSGAN D {config:?}"),
            );
            check_batch_gradients(
                &r,
                &f,
                shapes,
                |_, fake| loss.generator_loss_with(None, fake).unwrap(),
                |r, f| lsgan_reference(&config, r, f).1,
                &format!("LSGAN G {config:?}"),
            );
        }
    }
}

#[test]
fn wgan_gradients_match_finite_differences() {
    let shapes: (&[usize], &[usize]) = (&[4], &[4]);
    for config in wgan_configs() {
        let loss = config.build().unwrap();
        for (r, f) in option_cases() {
            check_batch_gradients(
                &r,
                &f,
                shapes,
                |real, fake| loss.discriminator_loss_with(real, fake).unwrap(),
                |r, f| wgan_reference(&config, r, f).0,
                &format!("WGAN D {config:?}"),
            );
            check_batch_gradients(
                &r,
                &f,
                shapes,
                |_, fake| loss.generator_loss_with(None, fake).unwrap(),
                |r, f| wgan_reference(&config, r, f).1,
                &format!("WGAN G {config:?}"),
            );
        }
    }
}

#[test]
fn lsgan_terms_sum_to_sum_loss() {
    let config = LeastSquaresConfig::default()
        .with_reduction(Reduction::Sum)
        .with_group_weights(2.0, 1.0);
    let loss = config.build().unwrap();
    let (r, f) = option_cases().pop().unwrap();
    let (real, fake) = (Tensors::new(&r, &[4]), Tensors::new(&f, &[4]));
    let terms = loss
        .discriminator_terms(&real.batch(), &fake.batch())
        .unwrap();
    let expected_real: Vec<f64> = (0..4)
        .map(|i| match r.included(i) {
            true => r.weight(i) * (r.x[i] - 1.0).powi(2),
            false => 0.0,
        })
        .collect();
    assert_all_close(&flat(&terms.real), &expected_real, 1e-12, "real terms");
    let total: f64 = flat(&terms.real).iter().chain(&flat(&terms.fake)).sum();
    let d = loss
        .discriminator_loss_with(&real.batch(), &fake.batch())
        .unwrap();
    assert_close(total, scalar(&d), 1e-12, "sum of terms");
}

#[test]
fn lsgan_summary_uses_midpoint_boundary() {
    // Targets a = −1, b = 1: boundary 0; real 0.5 counts as correct, fake 0.25 does not.
    let loss = LeastSquaresConfig::default()
        .with_targets(1.0, -1.0)
        .build()
        .unwrap();
    let real = tensor(&[0.5, -0.5], &[2]);
    let fake = tensor(&[0.25, -2.0], &[2]);
    let summary = loss
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    assert_close(summary.real_accuracy, 0.5, 1e-12, "real accuracy");
    assert_close(summary.fake_accuracy, 0.5, 1e-12, "fake accuracy");
    assert_close(summary.real_score, 0.0, 1e-12, "real score is the raw mean");
    assert_close(
        summary.fake_score,
        -0.875,
        1e-12,
        "fake score is the raw mean",
    );
    let expected = 0.5 * (0.25 + 2.25) / 2.0 + 0.5 * (1.5625 + 1.0) / 2.0;
    assert_close(summary.loss, expected, 1e-12, "summary loss");
    assert_eq!(summary.inside_margin_fraction, None);

    // Default targets a = 0, b = 1: boundary ½.
    let summary = LeastSquaresLoss::new()
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    assert_close(
        summary.real_accuracy,
        0.0,
        1e-12,
        "real accuracy at boundary ½",
    );
    assert_close(
        summary.fake_accuracy,
        1.0,
        1e-12,
        "fake accuracy at boundary ½",
    );
}

#[test]
fn wgan_summary_reports_estimate() {
    let real = tensor(&[3.0, 1.0], &[2]);
    let fake = tensor(&[-1.0, 0.0, 4.0], &[3]);
    let summary = WassersteinLoss::new()
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    assert_close(summary.wasserstein_estimate, 1.0, 1e-12, "estimate");
    assert_close(summary.loss, -1.0, 1e-12, "loss");
    assert_close(summary.real_term, -2.0, 1e-12, "real term");
    assert_close(summary.fake_term, 1.0, 1e-12, "fake term");
}

#[test]
fn kernels_agree_for_lsgan_and_wgan() {
    let (r, f) = option_cases().pop().unwrap();
    let (real, fake) = (Tensors::new(&r, &[4, 1]), Tensors::new(&f, &[4, 1]));
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let fused = LeastSquaresConfig::default().with_reduction(reduction);
        let plain = fused.with_kernel(Kernel::Plain);
        let a = fused
            .build()
            .unwrap()
            .discriminator_loss_with(&real.batch(), &fake.batch());
        let b = plain
            .build()
            .unwrap()
            .discriminator_loss_with(&real.batch(), &fake.batch());
        assert_close(
            scalar(&a.unwrap()),
            scalar(&b.unwrap()),
            1e-12,
            "LSGAN kernels",
        );

        let fused = WassersteinConfig::default().with_reduction(reduction);
        let plain = fused.with_kernel(Kernel::Plain);
        let a = fused
            .build()
            .unwrap()
            .discriminator_loss_with(&real.batch(), &fake.batch());
        let b = plain
            .build()
            .unwrap()
            .discriminator_loss_with(&real.batch(), &fake.batch());
        assert_close(
            scalar(&a.unwrap()),
            scalar(&b.unwrap()),
            1e-12,
            "WGAN kernels",
        );
    }
}

#[test]
fn half_precision_returns_input_dtype() {
    let real = Tensor::new(&[1.5f32, -0.5], &Device::Cpu).unwrap();
    let fake = Tensor::new(&[0.25f32, 2.0], &Device::Cpu).unwrap();
    let expected_ls = LeastSquaresLoss::new()
        .discriminator_loss(&real, &fake)
        .unwrap();
    let expected_w = WassersteinLoss::new()
        .discriminator_loss(&real, &fake)
        .unwrap();
    for dtype in [DType::F16, DType::BF16] {
        let (r, f) = (real.to_dtype(dtype).unwrap(), fake.to_dtype(dtype).unwrap());
        let ls = LeastSquaresLoss::new().discriminator_loss(&r, &f).unwrap();
        assert_eq!(ls.dtype(), dtype);
        assert_close(scalar(&ls), scalar(&expected_ls), 1e-2, "LSGAN half");
        let w = WassersteinLoss::new().generator_loss(&f).unwrap();
        assert_eq!(w.dtype(), dtype);
        let wd = WassersteinLoss::new().discriminator_loss(&r, &f).unwrap();
        assert_close(scalar(&wd), scalar(&expected_w), 1e-2, "WGAN half");
    }
}

#[test]
fn infinite_and_nan_outputs() {
    let inf = tensor(&[f64::INFINITY], &[1]);
    let nan = tensor(&[f64::NAN], &[1]);
    let zero = tensor(&[0.0], &[1]);
    let ls = LeastSquaresLoss::new();
    assert_eq!(
        scalar(&ls.discriminator_loss(&inf, &zero).unwrap()),
        f64::INFINITY
    );
    assert!(scalar(&ls.discriminator_loss(&nan, &zero).unwrap()).is_nan());
    let w = WassersteinLoss::new();
    assert_eq!(
        scalar(&w.discriminator_loss(&zero, &inf).unwrap()),
        f64::INFINITY
    );
    assert!(scalar(&w.generator_loss(&nan).unwrap()).is_nan());
}

#[test]
fn invalid_options_are_rejected() {
    let cases = [
        (
            LeastSquaresConfig::default()
                .with_targets(f64::NAN, 0.0)
                .build()
                .err(),
            "real_target",
        ),
        (
            LeastSquaresConfig::default()
                .with_targets(1.0, 1.0)
                .build()
                .err(),
            "fake_target",
        ),
        (
            LeastSquaresConfig::default()
                .with_generator_target(f64::INFINITY)
                .build()
                .err(),
            "generator_target",
        ),
        (
            LeastSquaresConfig::default()
                .with_group_weights(-1.0, 1.0)
                .build()
                .err(),
            "real_weight",
        ),
    ];
    for (error, expected) in cases {
        match error {
            Some(Error::InvalidOption { option, .. }) => assert_eq!(option, expected),
            other => panic!("expected InvalidOption for {expected}, got {other:?}"),
        }
    }
    match WassersteinConfig::default()
        .with_group_weights(1.0, f64::NAN)
        .build()
    {
        Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "fake_weight"),
        other => panic!("expected InvalidOption for fake_weight, got {other:?}"),
    }
}
