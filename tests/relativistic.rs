//! Relativistic losses against f64 references, including gradients through the batch means.

mod reference;

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::{
    Batch, DiscriminatorLoss, Error, GeneratorForm, GeneratorLoss, Kernel, RaHingeConfig,
    RaHingeLoss, RaLsganConfig, RaLsganLoss, RaSganConfig, RaSganLoss, Reduction, RsganConfig,
    RsganLoss,
};
use reference::{
    assert_all_close, assert_close, batch_of, bce, check_batch_gradients, flat, relu, scalar,
    sigmoid, tensor, RefBatch,
};

/// Real and fake batches of different sizes, plain, weighted, masked, and both.
fn unequal_cases() -> Vec<(RefBatch, RefBatch)> {
    let r = RefBatch::new(vec![1.25, -0.5, 2.0]);
    let f = RefBatch::new(vec![-1.0, 0.75, 0.0, -2.5]);
    vec![
        (r.clone(), f.clone()),
        (
            r.clone().weights(vec![2.0, 0.5, 1.0]),
            f.clone().weights(vec![1.0, 0.0, 3.0, 0.5]),
        ),
        (
            r.clone().mask(vec![1.0, 0.0, 1.0]),
            f.clone().mask(vec![0.0, 1.0, 1.0, 1.0]),
        ),
        (
            r.weights(vec![0.5, 1.0, 2.0]).mask(vec![1.0, 1.0, 0.0]),
            f.weights(vec![2.0, 1.0, 1.0, 4.0])
                .mask(vec![1.0, 0.0, 1.0, 1.0]),
        ),
    ]
}

/// Real and fake batches of one size, for the paired loss.
fn equal_cases() -> Vec<(RefBatch, RefBatch)> {
    let r = RefBatch::new(vec![1.25, -0.5, 2.0, 0.25]);
    let f = RefBatch::new(vec![-1.0, 0.75, 0.0, 0.25]);
    vec![
        (r.clone(), f.clone()),
        (r.clone().weights(vec![2.0, 0.5, 1.0, 1.0]), f.clone()),
        (
            r.clone().weights(vec![2.0, 0.5, 1.0, 0.0]),
            f.clone().weights(vec![1.0, 3.0, 0.5, 1.0]),
        ),
        (r.clone().mask(vec![1.0, 0.0, 1.0, 1.0]), f.clone()),
        (
            r.weights(vec![0.5, 1.0, 2.0, 1.0])
                .mask(vec![1.0, 1.0, 0.0, 1.0]),
            f.weights(vec![2.0, 1.0, 1.0, 4.0])
                .mask(vec![1.0, 0.0, 1.0, 1.0]),
        ),
    ]
}

const SHAPES_3_4: [(&[usize], &[usize]); 3] = [
    (&[3], &[4]),
    (&[3, 1], &[4, 1]),
    (&[3, 1, 1, 1], &[2, 1, 2, 1]),
];

/// r − mean f and f − mean r, means unweighted over included elements.
fn relative(r: &RefBatch, f: &RefBatch) -> (RefBatch, RefBatch) {
    (r.shifted(f.mean()), f.shifted(r.mean()))
}

fn rasgan_reference(config: &RaSganConfig, r: &RefBatch, f: &RefBatch) -> (f64, f64) {
    let (y_r, y_f) = config.labels.targets().unwrap();
    let (rt, ft) = relative(r, f);
    let red = config.reduction;
    let d = rt.reduce(red, config.real_weight, |x| bce(x, y_r))
        + ft.reduce(red, config.fake_weight, |x| bce(x, y_f));
    let g = match config.generator {
        GeneratorForm::NonSaturating => {
            ft.reduce(red, 1.0, |x| bce(x, 1.0)) + rt.reduce(red, 1.0, |x| bce(x, 0.0))
        }
        _ => -rt.reduce(red, 1.0, |x| bce(x, 1.0)) - ft.reduce(red, 1.0, |x| bce(x, 0.0)),
    };
    (d, g)
}

fn ralsgan_reference(config: &RaLsganConfig, r: &RefBatch, f: &RefBatch) -> (f64, f64) {
    let (t_r, t_f) = (config.real_target, config.fake_target);
    let (rt, ft) = relative(r, f);
    let red = config.reduction;
    let d = rt.reduce(red, 0.5 * config.real_weight, |x| (x - t_r).powi(2))
        + ft.reduce(red, 0.5 * config.fake_weight, |x| (x - t_f).powi(2));
    let g = ft.reduce(red, 0.5, |x| (x - t_r).powi(2)) + rt.reduce(red, 0.5, |x| (x - t_f).powi(2));
    (d, g)
}

fn rahinge_reference(config: &RaHingeConfig, r: &RefBatch, f: &RefBatch) -> (f64, f64) {
    let (m_r, m_f) = (config.real_margin, config.fake_margin);
    let (rt, ft) = relative(r, f);
    let red = config.reduction;
    let d = rt.reduce(red, config.real_weight, |x| relu(m_r - x))
        + ft.reduce(red, config.fake_weight, |x| relu(m_f + x));
    let g = ft.reduce(red, 1.0, |x| relu(m_r - x)) + rt.reduce(red, 1.0, |x| relu(m_f + x));
    (d, g)
}

/// Builds the pairs of two equal batches: r − f, product weights, both-included mask.
fn pairs(r: &RefBatch, f: &RefBatch) -> RefBatch {
    let n = r.x.len();
    let x = (0..n).map(|i| r.x[i] - f.x[i]).collect();
    let w = (r.w.is_some() || f.w.is_some())
        .then(|| (0..n).map(|i| r.weight(i) * f.weight(i)).collect());
    let m = (r.m.is_some() || f.m.is_some()).then(|| {
        (0..n)
            .map(|i| f64::from(u8::from(r.included(i) && f.included(i))))
            .collect()
    });
    RefBatch { x, w, m }
}

fn rsgan_reference(config: &RsganConfig, r: &RefBatch, f: &RefBatch) -> (f64, f64) {
    let (y, _) = config.labels.targets().unwrap();
    let p = pairs(r, f);
    let red = config.reduction;
    let d = p.reduce(red, 1.0, |x| bce(x, y));
    let g = match config.generator {
        GeneratorForm::NonSaturating => p.reduce(red, 1.0, |x| bce(-x, 1.0)),
        _ => -p.reduce(red, 1.0, |x| bce(x, 1.0)),
    };
    (d, g)
}

fn rasgan_configs() -> Vec<RaSganConfig> {
    let base = RaSganConfig::default();
    vec![
        base,
        base.with_label_smoothing(0.1),
        base.with_targets(0.9, 0.2),
        base.with_generator(GeneratorForm::Saturating),
        base.with_group_weights(2.0, 0.5)
            .with_reduction(Reduction::Sum),
        base.with_kernel(Kernel::Plain),
    ]
}

fn ralsgan_configs() -> Vec<RaLsganConfig> {
    let base = RaLsganConfig::default();
    vec![
        base,
        base.with_targets(0.5, -2.0),
        base.with_group_weights(0.5, 2.0)
            .with_reduction(Reduction::Sum),
        base.with_kernel(Kernel::Plain),
    ]
}

fn rahinge_configs() -> Vec<RaHingeConfig> {
    let base = RaHingeConfig::default();
    vec![
        base,
        base.with_margins(2.0, 0.5),
        base.with_margin(1.5).with_group_weights(3.0, 1.0),
        base.with_reduction(Reduction::Sum)
            .with_kernel(Kernel::Plain),
    ]
}

fn rsgan_configs() -> Vec<RsganConfig> {
    let base = RsganConfig::default();
    vec![
        base,
        base.with_label_smoothing(0.2),
        base.with_generator(GeneratorForm::Saturating),
        base.with_reduction(Reduction::Sum),
        base.with_kernel(Kernel::Plain),
    ]
}

/// Checks a loss's D and G values on every case and shape against its reference.
fn check_values<L: DiscriminatorLoss + GeneratorLoss>(
    loss: &L,
    cases: &[(RefBatch, RefBatch)],
    shapes: &[(&[usize], &[usize])],
    reference: impl Fn(&RefBatch, &RefBatch) -> (f64, f64),
    what: &str,
) {
    for (r, f) in cases {
        for (real_shape, fake_shape) in shapes {
            let x_r = tensor(&r.x, real_shape);
            let x_f = tensor(&f.x, fake_shape);
            let w_r = r.w.as_ref().map(|w| tensor(w, real_shape));
            let m_r = r.m.as_ref().map(|m| tensor(m, real_shape));
            let w_f = f.w.as_ref().map(|w| tensor(w, fake_shape));
            let m_f = f.m.as_ref().map(|m| tensor(m, fake_shape));
            let real = batch_of(&x_r, w_r.as_ref(), m_r.as_ref());
            let fake = batch_of(&x_f, w_f.as_ref(), m_f.as_ref());

            let (d, g) = reference(r, f);
            let case = format!("{what} {real_shape:?} {r:?} {f:?}");
            let d_loss = loss.discriminator_loss_with(&real, &fake).unwrap();
            assert_eq!(d_loss.dims(), &[] as &[usize]);
            assert_close(scalar(&d_loss), d, 1e-12, &format!("D {case}"));
            let g_loss = loss.generator_loss_with(Some(&real), &fake).unwrap();
            assert_close(scalar(&g_loss), g, 1e-12, &format!("G {case}"));
        }
    }
}

/// Checks D and G gradients of a loss on every case against central differences.
fn check_grads<L: DiscriminatorLoss + GeneratorLoss>(
    loss: &L,
    cases: &[(RefBatch, RefBatch)],
    shapes: (&[usize], &[usize]),
    reference: impl Fn(&RefBatch, &RefBatch) -> (f64, f64),
    what: &str,
) {
    for (r, f) in cases {
        check_batch_gradients(
            r,
            f,
            shapes,
            |real, fake| loss.discriminator_loss_with(real, fake).unwrap(),
            |r, f| reference(r, f).0,
            &format!("{what} D {r:?} {f:?}"),
        );
        check_batch_gradients(
            r,
            f,
            shapes,
            |real, fake| loss.generator_loss_with(Some(real), fake).unwrap(),
            |r, f| reference(r, f).1,
            &format!("{what} G {r:?} {f:?}"),
        );
    }
}

#[test]
fn rasgan_matches_reference() {
    for config in rasgan_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| rasgan_reference(&config, r, f);
        check_values(
            &loss,
            &unequal_cases(),
            &SHAPES_3_4,
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn ralsgan_matches_reference() {
    for config in ralsgan_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| ralsgan_reference(&config, r, f);
        check_values(
            &loss,
            &unequal_cases(),
            &SHAPES_3_4,
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn rahinge_matches_reference() {
    for config in rahinge_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| rahinge_reference(&config, r, f);
        check_values(
            &loss,
            &unequal_cases(),
            &SHAPES_3_4,
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn rsgan_matches_reference() {
    let shapes: [(&[usize], &[usize]); 3] = [
        (&[4], &[4]),
        (&[4, 1], &[4, 1]),
        (&[2, 1, 2, 1], &[2, 1, 2, 1]),
    ];
    for config in rsgan_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| rsgan_reference(&config, r, f);
        check_values(
            &loss,
            &equal_cases(),
            &shapes,
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn rasgan_gradients_match_finite_differences() {
    for config in rasgan_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| rasgan_reference(&config, r, f);
        check_grads(
            &loss,
            &unequal_cases(),
            (&[3, 1], &[4, 1]),
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn ralsgan_gradients_match_finite_differences() {
    for config in ralsgan_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| ralsgan_reference(&config, r, f);
        check_grads(
            &loss,
            &unequal_cases(),
            (&[3], &[4]),
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn rahinge_gradients_match_finite_differences() {
    // The cases keep every relative output away from the kinks, where differences disagree.
    for config in rahinge_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| rahinge_reference(&config, r, f);
        check_grads(
            &loss,
            &unequal_cases(),
            (&[3], &[4]),
            reference,
            &format!("{config:?}"),
        );
    }
}

#[test]
fn rsgan_gradients_match_finite_differences() {
    for config in rsgan_configs() {
        let loss = config.build().unwrap();
        let reference = |r: &RefBatch, f: &RefBatch| rsgan_reference(&config, r, f);
        check_grads(
            &loss,
            &equal_cases(),
            (&[4, 1], &[4, 1]),
            reference,
            &format!("{config:?}"),
        );
    }
}

/// Gradient of the RaSGAN discriminator loss with respect to the first real logit.
fn first_real_gradient(real: &[f64], fake: &[f64]) -> f64 {
    let real_var = Var::from_tensor(&tensor(real, &[real.len()])).unwrap();
    let fake_tensor = tensor(fake, &[fake.len()]);
    let loss = RaSganLoss::new()
        .discriminator_loss(real_var.as_tensor(), &fake_tensor)
        .unwrap();
    let grads = loss.backward().unwrap();
    flat(grads.get(&real_var).unwrap())[0]
}

#[test]
fn rasgan_gradient_flows_through_batch_means() {
    let real = [0.5, -1.0, 2.0];
    let fake = [-0.5, 1.0, 0.25, -2.0];
    let n_r = real.len() as f64;
    let fake_mean = fake.iter().sum::<f64>() / fake.len() as f64;
    let real_mean = real.iter().sum::<f64>() / n_r;

    // ∂D/∂r₀ = (σ(r₀ − mean f) − 1)/N_r − mean_j σ(f_j − mean r)/N_r: the second part comes only
    // through mean r.
    let own = (sigmoid(real[0] - fake_mean) - 1.0) / n_r;
    let through_mean =
        -fake.iter().map(|f| sigmoid(f - real_mean)).sum::<f64>() / fake.len() as f64 / n_r;
    let gradient = first_real_gradient(&real, &fake);
    assert_close(gradient, own + through_mean, 1e-12, "∂D/∂r₀");
    assert!(
        (gradient - own).abs() > 1e-3,
        "the mean path adds {through_mean} to ∂D/∂r₀"
    );

    // Another fake element changes the real logit's gradient.
    let mut moved = fake;
    moved[1] += 1.5;
    let moved_gradient = first_real_gradient(&real, &moved);
    assert!(
        (moved_gradient - gradient).abs() > 1e-3,
        "∂D/∂r₀ is {gradient} before and {moved_gradient} after moving f₁"
    );
}

#[test]
fn generators_need_real_logits() {
    let fake = tensor(&[0.5, -0.5], &[2]);
    let cases: [(&dyn GeneratorLoss, &str); 4] = [
        (&RsganLoss::new(), "RSGAN"),
        (&RaSganLoss::new(), "RaSGAN"),
        (&RaLsganLoss::new(), "RaLSGAN"),
        (&RaHingeLoss::new(), "RaHinge"),
    ];
    for (loss, name) in cases {
        assert!(loss.needs_real_logits(), "{name} reads the real logits");
        match loss.generator_loss(&fake) {
            Err(Error::MissingRealLogits { loss }) => assert_eq!(loss, name),
            other => panic!("{name}: expected MissingRealLogits, got {other:?}"),
        }
    }
}

#[test]
fn rsgan_rejects_unpaired_batches() {
    let loss = RsganLoss::new();
    let real = tensor(&[0.5, 1.0, 2.0], &[3]);
    for fake_shape in [&[4][..], &[3, 1][..]] {
        let count = fake_shape.iter().product();
        let fake = tensor(&vec![0.0; count], fake_shape);
        match loss.discriminator_loss(&real, &fake) {
            Err(Error::UnpairedBatches { loss, real, fake }) => {
                assert_eq!(loss, "RSGAN");
                assert_eq!(real.dims(), &[3]);
                assert_eq!(fake.dims(), fake_shape);
            }
            other => panic!("expected UnpairedBatches for {fake_shape:?}, got {other:?}"),
        }
        let error = loss.generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake));
        assert!(matches!(error, Err(Error::UnpairedBatches { .. })));
    }
}

#[test]
fn masked_outputs_leave_means_and_loss_unchanged() {
    // A NaN or a huge value in an excluded element must not reach the means or the loss.
    let real = tensor(&[1.0, 2.0, f64::NAN], &[3]);
    let fake = tensor(&[0.5, 1e30, -1.0], &[3]);
    let real_mask = tensor(&[1.0, 1.0, 0.0], &[3]);
    let fake_mask = tensor(&[1.0, 0.0, 1.0], &[3]);
    let r = RefBatch::new(vec![1.0, 2.0]);
    let f = RefBatch::new(vec![0.5, -1.0]);
    let real_batch = Batch::new(&real).with_mask(&real_mask);
    let fake_batch = Batch::new(&fake).with_mask(&fake_mask);

    let config = RaSganConfig::default();
    let d = RaSganLoss::new()
        .discriminator_loss_with(&real_batch, &fake_batch)
        .unwrap();
    assert_close(
        scalar(&d),
        rasgan_reference(&config, &r, &f).0,
        1e-12,
        "RaSGAN D",
    );
    let config = RaLsganConfig::default();
    let g = RaLsganLoss::new()
        .generator_loss_with(Some(&real_batch), &fake_batch)
        .unwrap();
    assert_close(
        scalar(&g),
        ralsgan_reference(&config, &r, &f).1,
        1e-12,
        "RaLSGAN G",
    );

    let real_var = Var::from_tensor(&real).unwrap();
    let d = RaHingeLoss::new()
        .discriminator_loss_with(
            &Batch::new(real_var.as_tensor()).with_mask(&real_mask),
            &fake_batch,
        )
        .unwrap();
    let grads = d.backward().unwrap();
    let gradient = flat(grads.get(&real_var).unwrap());
    assert!(
        gradient.iter().all(|g| g.is_finite()),
        "gradient {gradient:?}"
    );
    assert_eq!(gradient[2], 0.0);
}

#[test]
fn weights_scale_terms_but_not_means() {
    // A fake weight of 0 drops that fake's term but keeps it in mean f; a mask drops both.
    let real = tensor(&[1.0, 3.0], &[2]);
    let fake = tensor(&[0.0, 4.0], &[2]);
    let zero_weight = tensor(&[1.0, 0.0], &[2]);
    let loss = RaSganLoss::new();

    let weighted = loss
        .discriminator_loss_with(
            &Batch::new(&real),
            &Batch::new(&fake).with_weights(&zero_weight),
        )
        .unwrap();
    // mean f = 2, mean r = 2: real terms on [−1, 1], fake term on [−2] (the second has weight 0).
    let expected = (bce(-1.0, 1.0) + bce(1.0, 1.0)) / 2.0 + bce(-2.0, 0.0) / 2.0;
    assert_close(scalar(&weighted), expected, 1e-12, "weighted");

    let masked = loss
        .discriminator_loss_with(
            &Batch::new(&real),
            &Batch::new(&fake).with_mask(&zero_weight),
        )
        .unwrap();
    // mean f = 0 over the included fake; the fake divisor is 1.
    let expected = (bce(1.0, 1.0) + bce(3.0, 1.0)) / 2.0 + bce(-2.0, 0.0);
    assert_close(scalar(&masked), expected, 1e-12, "masked");
}

#[test]
fn relativistic_summaries_read_relative_outputs() {
    let r = RefBatch::new(vec![1.0, 3.0, -0.5]);
    let f = RefBatch::new(vec![0.0, 2.0]);
    let real = tensor(&r.x, &[3, 1]);
    let fake = tensor(&f.x, &[2, 1]);
    let (rt, ft) = relative(&r, &f);
    let mean = |v: &[f64], g: fn(f64) -> f64| v.iter().map(|x| g(*x)).sum::<f64>() / v.len() as f64;

    let summary = RaSganLoss::new()
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    let (d, _) = rasgan_reference(&RaSganConfig::default(), &r, &f);
    assert_close(summary.loss, d, 1e-12, "RaSGAN loss");
    assert_close(
        summary.real_score,
        mean(&rt.x, sigmoid),
        1e-12,
        "real score",
    );
    assert_close(
        summary.fake_score,
        mean(&ft.x, sigmoid),
        1e-12,
        "fake score",
    );
    assert_close(
        summary.wasserstein_estimate,
        r.mean() - f.mean(),
        1e-12,
        "estimate",
    );
    // r − mean f = [0, 2, −1.5]: one of three strictly above 0.
    assert_close(summary.real_accuracy, 1.0 / 3.0, 1e-12, "real accuracy");

    let summary = RaHingeLoss::new()
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    let inside =
        rt.x.iter().filter(|x| **x < 1.0).count() + ft.x.iter().filter(|x| **x > -1.0).count();
    let expected = inside as f64 / 5.0;
    assert_eq!(summary.inside_margin_fraction, Some(expected));
    assert_close(summary.real_score, rt.mean(), 1e-12, "RaHinge real score");

    let summary = RaLsganLoss::new()
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    assert_close(summary.fake_score, ft.mean(), 1e-12, "RaLSGAN fake score");
    assert_eq!(summary.inside_margin_fraction, None);
}

#[test]
fn rsgan_summary_and_terms() {
    let r = RefBatch::new(vec![1.0, -0.5, 2.0]);
    let f = RefBatch::new(vec![0.0, 0.5, 2.5]);
    let real = tensor(&r.x, &[3]);
    let fake = tensor(&f.x, &[3]);
    let loss = RsganConfig::default()
        .with_reduction(Reduction::Sum)
        .build()
        .unwrap();
    let (d, _) = rsgan_reference(loss.config(), &r, &f);

    let summary = loss
        .discriminator_summary(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    assert_close(summary.loss, d, 1e-12, "loss");
    assert_close(summary.real_term, d, 1e-12, "real term");
    assert_eq!(summary.fake_term, 0.0);
    let diffs = [1.0, -1.0, -0.5];
    let score = diffs.iter().map(|x| sigmoid(*x)).sum::<f64>() / 3.0;
    assert_close(summary.real_score, score, 1e-12, "real score");
    assert_close(summary.fake_score, 1.0 - score, 1e-12, "fake score");
    assert_close(summary.wasserstein_estimate, -0.5 / 3.0, 1e-12, "estimate");

    let terms = loss
        .discriminator_terms(&Batch::new(&real), &Batch::new(&fake))
        .unwrap();
    let expected: Vec<f64> = diffs.iter().map(|x| bce(*x, 1.0)).collect();
    assert_all_close(&flat(&terms.real), &expected, 1e-12, "pair terms");
    assert_eq!(flat(&terms.fake), vec![0.0; 3]);
}

#[test]
fn average_terms_sum_to_sum_loss() {
    let (r, f) = unequal_cases().pop().unwrap();
    let x_r = tensor(&r.x, &[3]);
    let x_f = tensor(&f.x, &[4]);
    let w_r = tensor(r.w.as_ref().unwrap(), &[3]);
    let m_r = tensor(r.m.as_ref().unwrap(), &[3]);
    let w_f = tensor(f.w.as_ref().unwrap(), &[4]);
    let m_f = tensor(f.m.as_ref().unwrap(), &[4]);
    let real = batch_of(&x_r, Some(&w_r), Some(&m_r));
    let fake = batch_of(&x_f, Some(&w_f), Some(&m_f));
    let losses: [(&dyn DiscriminatorLoss, &str); 3] = [
        (
            &RaSganConfig::default()
                .with_reduction(Reduction::Sum)
                .build()
                .unwrap(),
            "RaSGAN",
        ),
        (
            &RaLsganConfig::default()
                .with_reduction(Reduction::Sum)
                .build()
                .unwrap(),
            "RaLSGAN",
        ),
        (
            &RaHingeConfig::default()
                .with_reduction(Reduction::Sum)
                .build()
                .unwrap(),
            "RaHinge",
        ),
    ];
    for (loss, name) in losses {
        let terms = loss.discriminator_terms(&real, &fake).unwrap();
        assert_eq!(terms.real.dims(), &[3]);
        assert_eq!(terms.fake.dims(), &[4]);
        let total: f64 = flat(&terms.real).iter().chain(&flat(&terms.fake)).sum();
        let value = scalar(&loss.discriminator_loss_with(&real, &fake).unwrap());
        assert_close(total, value, 1e-12, name);
    }
}

#[test]
fn kernels_agree_for_relativistic_losses() {
    let real = tensor(&[1.0, -2.0, 0.5, 3.0], &[4, 1]);
    let fake = tensor(&[0.0, 1.5, -1.0, 0.25], &[4, 1]);
    let (real, fake) = (Batch::new(&real), Batch::new(&fake));
    let pairs: [(Box<dyn DiscriminatorLoss>, Box<dyn DiscriminatorLoss>); 4] = [
        (
            Box::new(RsganLoss::new()),
            Box::new(
                RsganConfig::default()
                    .with_kernel(Kernel::Plain)
                    .build()
                    .unwrap(),
            ),
        ),
        (
            Box::new(RaSganLoss::new()),
            Box::new(
                RaSganConfig::default()
                    .with_kernel(Kernel::Plain)
                    .build()
                    .unwrap(),
            ),
        ),
        (
            Box::new(RaLsganLoss::new()),
            Box::new(
                RaLsganConfig::default()
                    .with_kernel(Kernel::Plain)
                    .build()
                    .unwrap(),
            ),
        ),
        (
            Box::new(RaHingeLoss::new()),
            Box::new(
                RaHingeConfig::default()
                    .with_kernel(Kernel::Plain)
                    .build()
                    .unwrap(),
            ),
        ),
    ];
    for (fused, plain) in pairs {
        let a = scalar(&fused.discriminator_loss_with(&real, &fake).unwrap());
        let b = scalar(&plain.discriminator_loss_with(&real, &fake).unwrap());
        assert_close(a, b, 1e-12, "fused against plain");
    }
}

#[test]
fn saturated_logits_stay_finite() {
    let real = Var::new(&[300.0f32, -300.0, 50.0], &Device::Cpu).unwrap();
    let fake = Var::new(&[-300.0f32, 300.0, -50.0], &Device::Cpu).unwrap();
    let real_batch = Batch::new(real.as_tensor());
    let fake_batch = Batch::new(fake.as_tensor());
    let losses: [(&dyn DiscriminatorLoss, &dyn GeneratorLoss, &str); 2] = [
        (&RsganLoss::new(), &RsganLoss::new(), "RSGAN"),
        (&RaSganLoss::new(), &RaSganLoss::new(), "RaSGAN"),
    ];
    for (d_loss, g_loss, name) in losses {
        for value in [
            d_loss
                .discriminator_loss_with(&real_batch, &fake_batch)
                .unwrap(),
            g_loss
                .generator_loss_with(Some(&real_batch), &fake_batch)
                .unwrap(),
        ] {
            assert!(scalar(&value).is_finite(), "{name}: loss {value}");
            let grads = value.backward().unwrap();
            for v in [&real, &fake] {
                let g = flat(grads.get(v).unwrap());
                assert!(g.iter().all(|x| x.is_finite()), "{name}: gradient {g:?}");
            }
        }
    }
}

#[test]
fn half_precision_returns_input_dtype() {
    let real = Tensor::new(&[1.5f32, -0.5, 2.0], &Device::Cpu).unwrap();
    let fake = Tensor::new(&[0.25f32, 2.0, -1.0], &Device::Cpu).unwrap();
    let losses: [(&dyn DiscriminatorLoss, &dyn GeneratorLoss); 4] = [
        (&RsganLoss::new(), &RsganLoss::new()),
        (&RaSganLoss::new(), &RaSganLoss::new()),
        (&RaLsganLoss::new(), &RaLsganLoss::new()),
        (&RaHingeLoss::new(), &RaHingeLoss::new()),
    ];
    for (d_loss, g_loss) in losses {
        let expected = scalar(&d_loss.discriminator_loss(&real, &fake).unwrap());
        for dtype in [DType::F16, DType::BF16] {
            let r = real.to_dtype(dtype).unwrap();
            let f = fake.to_dtype(dtype).unwrap();
            let d = d_loss.discriminator_loss(&r, &f).unwrap();
            assert_eq!(d.dtype(), dtype);
            assert_close(scalar(&d), expected, 2e-2, "half precision");
            let g = g_loss
                .generator_loss_with(Some(&Batch::new(&r)), &Batch::new(&f))
                .unwrap();
            assert_eq!(g.dtype(), dtype);
        }
    }
}

#[test]
fn invalid_relativistic_options_are_rejected() {
    let errors = [
        (
            RaSganConfig::default()
                .with_label_smoothing(1.0)
                .build()
                .err(),
            "label_smoothing",
        ),
        (
            RaSganConfig::default()
                .with_group_weights(-1.0, 1.0)
                .build()
                .err(),
            "real_weight",
        ),
        (
            RsganConfig::default()
                .with_label_smoothing(-0.1)
                .build()
                .err(),
            "label_smoothing",
        ),
        (
            RaLsganConfig::default()
                .with_targets(-1.0, 1.0)
                .build()
                .err(),
            "fake_target",
        ),
        (
            RaLsganConfig::default()
                .with_targets(f64::NAN, -1.0)
                .build()
                .err(),
            "real_target",
        ),
        (
            RaHingeConfig::default().with_margin(0.0).build().err(),
            "real_margin",
        ),
        (
            RaHingeConfig::default()
                .with_margins(1.0, f64::INFINITY)
                .build()
                .err(),
            "fake_margin",
        ),
    ];
    for (error, expected) in errors {
        match error {
            Some(Error::InvalidOption { option, .. }) => assert_eq!(option, expected),
            other => panic!("expected InvalidOption for {expected}, got {other:?}"),
        }
    }
}

#[test]
fn fully_masked_batch_has_zero_mean() {
    // Every fake is excluded: mean f is 0, so the real terms read r itself, and the fake group
    // adds nothing.
    let real = tensor(&[1.0, -2.0], &[2]);
    let fake = tensor(&[5.0, 7.0], &[2]);
    let none = tensor(&[0.0, 0.0], &[2]);
    let d = RaSganLoss::new()
        .discriminator_loss_with(&Batch::new(&real), &Batch::new(&fake).with_mask(&none))
        .unwrap();
    let expected = (bce(1.0, 1.0) + bce(-2.0, 1.0)) / 2.0;
    assert_close(scalar(&d), expected, 1e-12, "RaSGAN D");
}
