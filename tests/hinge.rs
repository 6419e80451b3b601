//! `HingeLoss` against the f64 reference: margins, reductions, weights, masks, dtypes, the
//! linear generator loss, the kink, infinities, element terms and the summary.

mod common;

use candle_core::{DType, Device};
use common::{
    assert_close, assert_close_scalar, hinge, logits, sample_mask, sample_weights, scalar, shapes,
    tensor, values, RefBatch, TensorBatch, TestResult, Tolerance, DTYPES,
};
use gan_losses::{Batch, DiscriminatorLoss, GeneratorLoss, HingeConfig, HingeLoss, Reduction};

const REDUCTIONS: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];
const REAL_COUNT: usize = 12;
const FAKE_COUNT: usize = 8;

/// Checks the discriminator loss and its terms for every dtype, reduction and shape.
fn check_discriminator(
    config: HingeConfig,
    real_ref: &RefBatch,
    fake_ref: &RefBatch,
    device: &Device,
) -> TestResult {
    let (real_margin, fake_margin) = (config.real_margin, config.fake_margin);
    let (real_scale, fake_scale) = (config.real_weight, config.fake_weight);
    for dtype in DTYPES {
        for reduction in REDUCTIONS {
            let loss = config.with_reduction(reduction).build()?;
            let real_shapes = shapes(REAL_COUNT);
            let fake_shapes = shapes(FAKE_COUNT);
            for (real_shape, fake_shape) in real_shapes.iter().zip(&fake_shapes) {
                let real = TensorBatch::new(real_ref, real_shape, dtype, device)?;
                let fake = TensorBatch::new(fake_ref, fake_shape, dtype, device)?;
                let real_term = |x: f64| hinge(x, real_margin, 1.0);
                let fake_term = |x: f64| hinge(x, fake_margin, -1.0);
                let what = format!("{dtype:?} {reduction:?} real {real_shape:?}");
                let tolerance = Tolerance::for_dtype(dtype);

                let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
                assert_eq!(value.dtype(), dtype, "{what}: dtype");
                assert_eq!(value.rank(), 0, "{what}: rank");
                let expected = real_scale * real.reference.reduce(real_term, reduction)
                    + fake_scale * fake.reference.reduce(fake_term, reduction);
                assert_close_scalar(scalar(&value)?, expected, tolerance, &what);

                let terms = loss.discriminator_terms(&real.batch(), &fake.batch())?;
                assert_eq!(terms.real.dtype(), dtype, "{what}: terms dtype");
                assert_eq!(
                    terms.real.dims(),
                    real_shape.as_slice(),
                    "{what}: real terms"
                );
                assert_eq!(
                    terms.fake.dims(),
                    fake_shape.as_slice(),
                    "{what}: fake terms"
                );
                let scaled = |s: f64, v: Vec<f64>| v.into_iter().map(|t| s * t).collect::<Vec<_>>();
                assert_close(
                    &values(&terms.real)?,
                    &scaled(real_scale, real.reference.terms(real_term)),
                    tolerance,
                    &format!("{what}: real terms"),
                );
                assert_close(
                    &values(&terms.fake)?,
                    &scaled(fake_scale, fake.reference.terms(fake_term)),
                    tolerance,
                    &format!("{what}: fake terms"),
                );
            }
        }
    }
    Ok(())
}

fn default_margin(device: &Device) -> TestResult {
    let real = RefBatch::plain(logits(REAL_COUNT, 1));
    let fake = RefBatch::plain(logits(FAKE_COUNT, 2));
    check_discriminator(HingeConfig::default(), &real, &fake, device)
}

fn one_margin(device: &Device) -> TestResult {
    let real = RefBatch::plain(logits(REAL_COUNT, 3));
    let fake = RefBatch::plain(logits(FAKE_COUNT, 4));
    for margin in [0.5, 2.0, 150.0] {
        check_discriminator(
            HingeConfig::default().with_margin(margin),
            &real,
            &fake,
            device,
        )?;
    }
    Ok(())
}

fn separate_margins(device: &Device) -> TestResult {
    let real = RefBatch::plain(logits(REAL_COUNT, 5));
    let fake = RefBatch::plain(logits(FAKE_COUNT, 6));
    for (real_margin, fake_margin) in [(2.0, 0.5), (0.25, 3.0)] {
        let config = HingeConfig::default().with_margins(real_margin, fake_margin);
        check_discriminator(config, &real, &fake, device)?;
    }
    Ok(())
}

fn weights_and_mask(device: &Device) -> TestResult {
    let mut real = RefBatch::plain(logits(REAL_COUNT, 7));
    real.weights = Some(sample_weights(REAL_COUNT, 1));
    real.mask = Some(sample_mask(REAL_COUNT, 2));
    let mut fake = RefBatch::plain(logits(FAKE_COUNT, 8));
    fake.weights = Some(sample_weights(FAKE_COUNT, 3));
    check_discriminator(
        HingeConfig::default().with_margin(1.5),
        &real,
        &fake,
        device,
    )?;
    fake.mask = Some(sample_mask(FAKE_COUNT, 0));
    check_discriminator(HingeConfig::default(), &real, &fake, device)
}

fn group_weights(device: &Device) -> TestResult {
    let real = RefBatch::plain(logits(REAL_COUNT, 9));
    let fake = RefBatch::plain(logits(FAKE_COUNT, 10));
    let config = HingeConfig::default().with_group_weights(0.25, 3.0);
    check_discriminator(config, &real, &fake, device)
}

/// G = −mean f (or −sum f) with no relu, in every dtype, with weights and a mask.
fn generator_is_linear(device: &Device) -> TestResult {
    let mut reference = RefBatch::plain(logits(FAKE_COUNT, 11));
    reference.weights = Some(sample_weights(FAKE_COUNT, 4));
    reference.mask = Some(sample_mask(FAKE_COUNT, 1));
    for dtype in DTYPES {
        for reduction in REDUCTIONS {
            let loss = HingeConfig::default()
                .with_reduction(reduction)
                .with_margin(2.0)
                .build()?;
            assert!(
                !loss.needs_real_logits(),
                "hinge generator reads only fakes"
            );
            for shape in shapes(FAKE_COUNT) {
                let fake = TensorBatch::new(&reference, &shape, dtype, device)?;
                let value = loss.generator_loss_with(None, &fake.batch())?;
                let what = format!("{dtype:?} {reduction:?} {shape:?}");
                assert_eq!(value.dtype(), dtype, "{what}: dtype");
                let expected = -fake.reference.reduce(|x| x, reduction);
                assert_close_scalar(
                    scalar(&value)?,
                    expected,
                    Tolerance::for_dtype(dtype),
                    &what,
                );
            }
        }
    }
    Ok(())
}

/// Far below −m the generator loss keeps growing linearly and its gradient stays −1/N.
fn generator_linear_far_below_margin(device: &Device) -> TestResult {
    let loss = HingeLoss::new();
    let far = [-50.0, -300.0, -1e4];
    let fake = TensorBatch::new(&RefBatch::plain(far.to_vec()), &[3], DType::F32, device)?;
    let value = loss.generator_loss(fake.logits.as_tensor())?;
    let expected = -(far.iter().sum::<f64>()) / 3.0;
    let tolerance = Tolerance::for_dtype(DType::F32);
    assert_close_scalar(scalar(&value)?, expected, tolerance, "generator loss");
    let gradient = fake.gradient(&value.backward()?)?;
    assert_close(&gradient, &[-1.0 / 3.0; 3], tolerance, "generator gradient");
    Ok(())
}

/// At the kink (r = m_r, f = −m_f) the term is 0 and its gradient is exactly 0. Just inside,
/// the gradient is ∓1/N.
fn kink_gradient_is_zero(device: &Device) -> TestResult {
    for dtype in DTYPES {
        for (real_margin, fake_margin) in [(1.0, 1.0), (2.0, 0.5)] {
            let loss = HingeConfig::default()
                .with_margins(real_margin, fake_margin)
                .build()?;
            let real_ref = RefBatch::plain(vec![real_margin, real_margin - 0.5]);
            let fake_ref = RefBatch::plain(vec![-fake_margin, -fake_margin + 0.25]);
            let real = TensorBatch::new(&real_ref, &[2], dtype, device)?;
            let fake = TensorBatch::new(&fake_ref, &[2], dtype, device)?;
            let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
            let expected = 0.5 / 2.0 + 0.25 / 2.0;
            let what = format!("{dtype:?} margins ({real_margin}, {fake_margin})");
            assert_close_scalar(
                scalar(&value)?,
                expected,
                Tolerance::for_dtype(dtype),
                &what,
            );
            let grads = value.backward()?;
            let real_gradient = real.gradient(&grads)?;
            let fake_gradient = fake.gradient(&grads)?;
            assert_eq!(real_gradient[0], 0.0, "{what}: real gradient at the kink");
            assert_eq!(fake_gradient[0], 0.0, "{what}: fake gradient at the kink");
            assert_eq!(real_gradient[1], -0.5, "{what}: real gradient inside");
            assert_eq!(fake_gradient[1], 0.5, "{what}: fake gradient inside");
        }
    }
    Ok(())
}

/// Outputs on the correct side of the margin, however large, give 0 with gradient 0. Infinite
/// outputs on the wrong side give +∞ with a finite gradient, and NaN propagates.
fn infinities_and_nan(device: &Device) -> TestResult {
    let inf = f64::INFINITY;
    let loss = HingeLoss::new();
    for dtype in DTYPES {
        let real = TensorBatch::new(&RefBatch::plain(vec![inf, 300.0]), &[2], dtype, device)?;
        let fake = TensorBatch::new(&RefBatch::plain(vec![-inf, -300.0]), &[2], dtype, device)?;
        let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
        assert_eq!(scalar(&value)?, 0.0, "{dtype:?}: correct side");
        let grads = value.backward()?;
        assert_eq!(
            real.gradient(&grads)?,
            vec![0.0, 0.0],
            "{dtype:?}: real gradient"
        );
        assert_eq!(
            fake.gradient(&grads)?,
            vec![0.0, 0.0],
            "{dtype:?}: fake gradient"
        );

        let value = loss.discriminator_loss_with(&fake.batch(), &real.batch())?;
        assert_eq!(scalar(&value)?, inf, "{dtype:?}: wrong side");
        let grads = value.backward()?;
        assert_eq!(
            fake.gradient(&grads)?,
            vec![-0.5, -0.5],
            "{dtype:?}: real wrong side"
        );
        assert_eq!(
            real.gradient(&grads)?,
            vec![0.5, 0.5],
            "{dtype:?}: fake wrong side"
        );

        let generator = loss.generator_loss(real.logits.as_tensor())?;
        assert_eq!(scalar(&generator)?, -inf, "{dtype:?}: generator at +inf");
        let gradient = real.gradient(&generator.backward()?)?;
        assert_eq!(gradient, vec![-0.5, -0.5], "{dtype:?}: generator gradient");

        let nan = tensor(&[0.0, f64::NAN], &[2], dtype, device)?;
        let finite = tensor(&[0.0], &[1], dtype, device)?;
        let d_real = scalar(&loss.discriminator_loss(&nan, &finite)?)?;
        assert!(d_real.is_nan(), "{dtype:?}: NaN real output gave {d_real}");
        let d_fake = scalar(&loss.discriminator_loss(&finite, &nan)?)?;
        assert!(d_fake.is_nan(), "{dtype:?}: NaN fake output gave {d_fake}");
        let g = scalar(&loss.generator_loss(&nan)?)?;
        assert!(g.is_nan(), "{dtype:?}: NaN generator output gave {g}");
    }
    Ok(())
}

/// f16 outputs near ±60000 give a finite loss of the right size in f16.
fn half_dtypes_near_overflow(device: &Device) -> TestResult {
    let loss = HingeLoss::new();
    let real = tensor(&[60000.0, -60000.0], &[2], DType::F16, device)?;
    let fake = tensor(&[-60000.0, -60000.0], &[2], DType::F16, device)?;
    let value = loss.discriminator_loss(&real, &fake)?;
    assert_eq!(value.dtype(), DType::F16);
    let tolerance = Tolerance::for_dtype(DType::F16);
    assert_close_scalar(
        scalar(&value)?,
        60001.0 / 2.0,
        tolerance,
        "f16 discriminator",
    );

    let generator =
        loss.generator_loss(&tensor(&[-60000.0, -50000.0], &[2], DType::F16, device)?)?;
    assert_eq!(generator.dtype(), DType::F16);
    assert_close_scalar(scalar(&generator)?, 55000.0, tolerance, "f16 generator");
    for dtype in [DType::F16, DType::BF16] {
        let x = tensor(&[0.5, -2.0], &[2], dtype, device)?;
        assert_eq!(
            loss.discriminator_loss(&x, &x)?.dtype(),
            dtype,
            "discriminator"
        );
        assert_eq!(loss.generator_loss(&x)?.dtype(), dtype, "generator");
    }
    Ok(())
}

/// Terms sum to the `Sum` loss, group sums over counts give the `Mean` loss, masked elements
/// and elements past the margin are exactly 0.
fn terms_reduce_to_loss(device: &Device) -> TestResult {
    let mut real_ref = RefBatch::plain(logits(REAL_COUNT, 12));
    real_ref.mask = Some(sample_mask(REAL_COUNT, 1));
    let fake_ref = RefBatch::plain(logits(FAKE_COUNT, 13));
    let config = HingeConfig::default().with_margins(1.5, 0.5);
    for dtype in [DType::F32, DType::F64] {
        let real = TensorBatch::new(&real_ref, &[REAL_COUNT], dtype, device)?;
        let fake = TensorBatch::new(&fake_ref, &[FAKE_COUNT, 1], dtype, device)?;
        let tolerance = Tolerance::for_dtype(dtype);
        let terms = config
            .build()?
            .discriminator_terms(&real.batch(), &fake.batch())?;
        let real_terms = values(&terms.real)?;
        let fake_terms = values(&terms.fake)?;
        let mask = real.reference.mask.clone().unwrap_or_default();
        for (index, &term) in real_terms.iter().enumerate() {
            let x = real.reference.x[index];
            if mask[index] == 0.0 || x >= 1.5 {
                assert_eq!(term, 0.0, "{dtype:?}: real term at {index} (x = {x})");
            } else {
                assert!(term > 0.0, "{dtype:?}: real term at {index} (x = {x})");
            }
        }
        for (index, &term) in fake_terms.iter().enumerate() {
            let x = fake.reference.x[index];
            if x <= -0.5 {
                assert_eq!(term, 0.0, "{dtype:?}: fake term at {index} (x = {x})");
            } else {
                assert!(term > 0.0, "{dtype:?}: fake term at {index} (x = {x})");
            }
        }

        let sum_loss = config.with_reduction(Reduction::Sum).build()?;
        let sum = scalar(&sum_loss.discriminator_loss_with(&real.batch(), &fake.batch())?)?;
        let total: f64 = real_terms.iter().chain(&fake_terms).sum();
        assert_close_scalar(sum, total, tolerance, "terms sum to the Sum loss");

        let mean_loss = config.build()?;
        let mean = scalar(&mean_loss.discriminator_loss_with(&real.batch(), &fake.batch())?)?;
        let included = mask.iter().filter(|&&m| m != 0.0).count() as f64;
        let expected = real_terms.iter().sum::<f64>() / included
            + fake_terms.iter().sum::<f64>() / FAKE_COUNT as f64;
        assert_close_scalar(mean, expected, tolerance, "group sums over counts");
    }
    Ok(())
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Returns the values of the included elements.
fn included(x: &[f64], mask: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(mask)
        .filter(|(_, &m)| m != 0.0)
        .map(|(&x, _)| x)
        .collect()
}

fn mean_of(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    values.iter().map(|&x| f(x)).sum::<f64>() / values.len() as f64
}

/// Every summary figure, the inside-margin fraction included, against values computed here.
fn summary_figures(device: &Device) -> TestResult {
    // Outputs exactly on the margins (2 and −1) and the boundary (0) pin the strict
    // inequalities of the accuracies and the inside-margin fraction.
    let real_x = [2.5, 0.5, 0.0, -1.0, 2.0, 300.0];
    let fake_x = [-2.0, -1.0, 0.0, 1.0];
    let (real_margin, fake_margin) = (2.0, 1.0);
    let loss = HingeConfig::default()
        .with_margins(real_margin, fake_margin)
        .build()?;
    for masked in [false, true] {
        let real_mask = if masked {
            vec![1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
        } else {
            vec![1.0; 6]
        };
        let fake_mask = if masked {
            vec![1.0, 1.0, 0.0, 1.0]
        } else {
            vec![1.0; 4]
        };
        let real_t = tensor(&real_x, &[6], DType::F64, device)?;
        let fake_t = tensor(&fake_x, &[4], DType::F64, device)?;
        let real_m = tensor(&real_mask, &[6], DType::F64, device)?;
        let fake_m = tensor(&fake_mask, &[4], DType::F64, device)?;
        let summary = loss.discriminator_summary(
            &Batch::new(&real_t).with_mask(&real_m),
            &Batch::new(&fake_t).with_mask(&fake_m),
        )?;
        let r = included(&real_x, &real_mask);
        let f = included(&fake_x, &fake_mask);
        let tolerance = Tolerance::for_dtype(DType::F64);
        let what = |figure: &str| format!("masked {masked}: {figure}");

        let real_term = mean_of(&r, |x| hinge(x, real_margin, 1.0));
        let fake_term = mean_of(&f, |x| hinge(x, fake_margin, -1.0));
        assert_close_scalar(summary.real_term, real_term, tolerance, &what("real term"));
        assert_close_scalar(summary.fake_term, fake_term, tolerance, &what("fake term"));
        assert_close_scalar(
            summary.loss,
            real_term + fake_term,
            tolerance,
            &what("loss"),
        );
        assert_close_scalar(
            summary.real_score,
            mean_of(&r, |x| x),
            tolerance,
            &what("real score"),
        );
        assert_close_scalar(
            summary.fake_score,
            mean_of(&f, |x| x),
            tolerance,
            &what("fake score"),
        );
        let real_accuracy = mean_of(&r, |x| f64::from(u8::from(x > 0.0)));
        let fake_accuracy = mean_of(&f, |x| f64::from(u8::from(x < 0.0)));
        assert_close_scalar(
            summary.real_accuracy,
            real_accuracy,
            tolerance,
            &what("real accuracy"),
        );
        assert_close_scalar(
            summary.fake_accuracy,
            fake_accuracy,
            tolerance,
            &what("fake accuracy"),
        );
        assert_close_scalar(
            summary.real_sign_mean,
            mean_of(&r, sign),
            tolerance,
            &what("sign mean"),
        );
        let wasserstein = mean_of(&r, |x| x) - mean_of(&f, |x| x);
        assert_close_scalar(
            summary.wasserstein_estimate,
            wasserstein,
            tolerance,
            &what("Wasserstein estimate"),
        );
        let inside = r.iter().filter(|&&x| x < real_margin).count()
            + f.iter().filter(|&&x| x > -fake_margin).count();
        let fraction = inside as f64 / (r.len() + f.len()) as f64;
        let reported = summary
            .inside_margin_fraction
            .ok_or("no inside-margin fraction")?;
        assert_close_scalar(
            reported,
            fraction,
            tolerance,
            &what("inside-margin fraction"),
        );
    }
    Ok(())
}

device_tests!(
    default_margin,
    one_margin,
    separate_margins,
    weights_and_mask,
    group_weights,
    generator_is_linear,
    generator_linear_far_below_margin,
    kink_gradient_is_zero,
    infinities_and_nan,
    half_dtypes_near_overflow,
    terms_reduce_to_loss,
    summary_figures,
);
