//! `BceLoss` against the f64 reference: every option, reduction, dtype and shape, saturating and
//! infinite logits, element terms and the monitoring summary.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{
    assert_close, assert_close_scalar, bce, bce_probability, logits, probabilities, sample_mask,
    sample_weights, scalar, shapes, sigmoid, tensor, values, RefBatch, TensorBatch, TestResult,
    Tolerance, DTYPES,
};
use gan_losses::{
    Batch, BceConfig, BceLoss, DiscriminatorLoss, GeneratorForm, GeneratorLoss, Input, Reduction,
};

const REDUCTIONS: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];
const REAL_COUNT: usize = 12;
const FAKE_COUNT: usize = 8;

/// Options of one reference case: the batches and the targets the config implies.
struct Case {
    config: BceConfig,
    real: RefBatch,
    fake: RefBatch,
    real_target: f64,
    fake_target: f64,
    real_scale: f64,
    fake_scale: f64,
}

fn logit_batch(count: usize, seed: u64) -> RefBatch {
    RefBatch::plain(logits(count, seed))
}

/// Checks the discriminator loss and its element terms against the reference for every dtype,
/// reduction and shape, with real and fake batches of different sizes.
fn check_discriminator(case: &Case, device: &Device) -> TestResult {
    let probability = case.config.input == Input::Probabilities;
    for dtype in DTYPES {
        for reduction in REDUCTIONS {
            let loss = case.config.with_reduction(reduction).build()?;
            let real_shapes = shapes(REAL_COUNT);
            let fake_shapes = shapes(FAKE_COUNT);
            for (real_shape, fake_shape) in real_shapes.iter().zip(&fake_shapes) {
                let real = TensorBatch::new(&case.real, real_shape, dtype, device)?;
                let fake = TensorBatch::new(&case.fake, fake_shape, dtype, device)?;
                let term = |target: f64| {
                    move |x: f64| {
                        if probability {
                            bce_probability(x, target)
                        } else {
                            bce(x, target)
                        }
                    }
                };
                let what = format!("{dtype:?} {reduction:?} real {real_shape:?}");

                let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
                assert_eq!(value.dtype(), dtype, "{what}: loss dtype");
                assert_eq!(value.rank(), 0, "{what}: loss rank");
                let expected = case.real_scale
                    * real.reference.reduce(term(case.real_target), reduction)
                    + case.fake_scale * fake.reference.reduce(term(case.fake_target), reduction);
                let tolerance = Tolerance::for_dtype(dtype);
                assert_close_scalar(scalar(&value)?, expected, tolerance, &what);

                let terms = loss.discriminator_terms(&real.batch(), &fake.batch())?;
                assert_eq!(terms.real.dtype(), dtype, "{what}: real terms dtype");
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
                let scale = |s: f64, v: Vec<f64>| v.into_iter().map(|t| s * t).collect::<Vec<_>>();
                assert_close(
                    &values(&terms.real)?,
                    &scale(
                        case.real_scale,
                        real.reference.terms(term(case.real_target)),
                    ),
                    tolerance,
                    &format!("{what}: real terms"),
                );
                assert_close(
                    &values(&terms.fake)?,
                    &scale(
                        case.fake_scale,
                        fake.reference.terms(term(case.fake_target)),
                    ),
                    tolerance,
                    &format!("{what}: fake terms"),
                );
            }
        }
    }
    Ok(())
}

fn hard_labels(device: &Device) -> TestResult {
    check_discriminator(
        &Case {
            config: BceConfig::default(),
            real: logit_batch(REAL_COUNT, 1),
            fake: logit_batch(FAKE_COUNT, 2),
            real_target: 1.0,
            fake_target: 0.0,
            real_scale: 1.0,
            fake_scale: 1.0,
        },
        device,
    )
}

fn one_sided_label_smoothing(device: &Device) -> TestResult {
    for alpha in [0.0, 0.1, 0.25, 0.9] {
        check_discriminator(
            &Case {
                config: BceConfig::default().with_label_smoothing(alpha),
                real: logit_batch(REAL_COUNT, 3),
                fake: logit_batch(FAKE_COUNT, 4),
                real_target: 1.0 - alpha,
                fake_target: 0.0,
                real_scale: 1.0,
                fake_scale: 1.0,
            },
            device,
        )?;
    }
    Ok(())
}

fn explicit_targets(device: &Device) -> TestResult {
    for (real_target, fake_target) in [(0.8, 0.1), (1.0, 0.0), (0.0, 1.0), (0.5, 0.5)] {
        check_discriminator(
            &Case {
                config: BceConfig::default().with_targets(real_target, fake_target),
                real: logit_batch(REAL_COUNT, 5),
                fake: logit_batch(FAKE_COUNT, 6),
                real_target,
                fake_target,
                real_scale: 1.0,
                fake_scale: 1.0,
            },
            device,
        )?;
    }
    Ok(())
}

fn per_sample_weights(device: &Device) -> TestResult {
    let mut real = logit_batch(REAL_COUNT, 7);
    real.weights = Some(sample_weights(REAL_COUNT, 1));
    let mut fake = logit_batch(FAKE_COUNT, 8);
    fake.weights = Some(sample_weights(FAKE_COUNT, 2));
    check_discriminator(
        &Case {
            config: BceConfig::default().with_label_smoothing(0.1),
            real,
            fake,
            real_target: 0.9,
            fake_target: 0.0,
            real_scale: 1.0,
            fake_scale: 1.0,
        },
        device,
    )
}

fn masks(device: &Device) -> TestResult {
    let mut real = logit_batch(REAL_COUNT, 9);
    real.mask = Some(sample_mask(REAL_COUNT, 0));
    real.weights = Some(sample_weights(REAL_COUNT, 3));
    let mut fake = logit_batch(FAKE_COUNT, 10);
    fake.mask = Some(sample_mask(FAKE_COUNT, 1));
    check_discriminator(
        &Case {
            config: BceConfig::default(),
            real,
            fake,
            real_target: 1.0,
            fake_target: 0.0,
            real_scale: 1.0,
            fake_scale: 1.0,
        },
        device,
    )
}

fn group_weights(device: &Device) -> TestResult {
    check_discriminator(
        &Case {
            config: BceConfig::default().with_group_weights(2.5, 0.5),
            real: logit_batch(REAL_COUNT, 11),
            fake: logit_batch(FAKE_COUNT, 12),
            real_target: 1.0,
            fake_target: 0.0,
            real_scale: 2.5,
            fake_scale: 0.5,
        },
        device,
    )
}

fn probability_input(device: &Device) -> TestResult {
    let mut real = RefBatch::plain(probabilities(REAL_COUNT, 1));
    real.weights = Some(sample_weights(REAL_COUNT, 4));
    check_discriminator(
        &Case {
            config: BceConfig::default()
                .with_input(Input::Probabilities)
                .with_label_smoothing(0.2),
            real,
            fake: RefBatch::plain(probabilities(FAKE_COUNT, 2)),
            real_target: 0.8,
            fake_target: 0.0,
            real_scale: 1.0,
            fake_scale: 1.0,
        },
        device,
    )
}

device_tests!(
    hard_labels,
    one_sided_label_smoothing,
    explicit_targets,
    per_sample_weights,
    masks,
    group_weights,
    probability_input,
);

/// The generator loss: mean ℓ(f, 1) (non-saturating) or −mean ℓ(f, 0) (saturating).
fn generator_matches_reference(device: &Device) -> TestResult {
    let forms = [GeneratorForm::NonSaturating, GeneratorForm::Saturating];
    for input in [Input::Logits, Input::Probabilities] {
        for form in forms {
            for dtype in DTYPES {
                for reduction in REDUCTIONS {
                    let loss = BceConfig::default()
                        .with_input(input)
                        .with_generator(form)
                        .with_reduction(reduction)
                        .build()?;
                    let mut reference = match input {
                        Input::Logits => logit_batch(FAKE_COUNT, 13),
                        Input::Probabilities => RefBatch::plain(probabilities(FAKE_COUNT, 3)),
                    };
                    reference.weights = Some(sample_weights(FAKE_COUNT, 5));
                    reference.mask = Some(sample_mask(FAKE_COUNT, 2));
                    for shape in shapes(FAKE_COUNT) {
                        let fake = TensorBatch::new(&reference, &shape, dtype, device)?;
                        let term = |target: f64| {
                            move |x: f64| match input {
                                Input::Logits => bce(x, target),
                                Input::Probabilities => bce_probability(x, target),
                            }
                        };
                        let expected = match form {
                            GeneratorForm::NonSaturating => {
                                fake.reference.reduce(term(1.0), reduction)
                            }
                            GeneratorForm::Saturating => {
                                -fake.reference.reduce(term(0.0), reduction)
                            }
                        };
                        let value = loss.generator_loss_with(None, &fake.batch())?;
                        let what = format!("{input:?} {form:?} {dtype:?} {reduction:?} {shape:?}");
                        assert_eq!(value.dtype(), dtype, "{what}: dtype");
                        assert_eq!(value.rank(), 0, "{what}: rank");
                        assert_close_scalar(
                            scalar(&value)?,
                            expected,
                            Tolerance::for_dtype(dtype),
                            &what,
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Smoothing changes only the discriminator's real target, never the generator's.
fn generator_never_smoothed(device: &Device) -> TestResult {
    let fake = tensor(&logits(FAKE_COUNT, 14), &[FAKE_COUNT], DType::F32, device)?;
    for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
        let plain = BceConfig::default().with_generator(form).build()?;
        let smoothed = BceConfig::default()
            .with_generator(form)
            .with_label_smoothing(0.3)
            .build()?;
        let without = values(&plain.generator_loss(&fake)?)?;
        let with = values(&smoothed.generator_loss(&fake)?)?;
        assert_eq!(
            with, without,
            "{form:?}: generator loss changed by smoothing"
        );

        let real = tensor(&[2.0], &[1], DType::F32, device)?;
        let d_plain = scalar(&plain.discriminator_loss(&real, &fake)?)?;
        let d_smoothed = scalar(&smoothed.discriminator_loss(&real, &fake)?)?;
        assert!(
            d_plain != d_smoothed,
            "{form:?}: smoothing left the discriminator loss unchanged"
        );
    }
    Ok(())
}

/// Each group is averaged over its own size and the averages are added, while `Sum` adds every
/// term.
fn groups_of_different_sizes(device: &Device) -> TestResult {
    let real_logits = [0.5, -1.5];
    let fake_logits = [2.0, -0.5, 1.0, 3.0, -2.0, 0.0];
    let real = tensor(&real_logits, &[2], DType::F64, device)?;
    let fake = tensor(&fake_logits, &[6], DType::F64, device)?;
    let real_terms: Vec<f64> = real_logits.iter().map(|&x| bce(x, 1.0)).collect();
    let fake_terms: Vec<f64> = fake_logits.iter().map(|&x| bce(x, 0.0)).collect();
    let real_sum: f64 = real_terms.iter().sum();
    let fake_sum: f64 = fake_terms.iter().sum();
    let tolerance = Tolerance::for_dtype(DType::F64);

    let mean = scalar(&BceLoss::new().discriminator_loss(&real, &fake)?)?;
    let expected_mean = real_sum / 2.0 + fake_sum / 6.0;
    assert_close_scalar(mean, expected_mean, tolerance, "mean of each group");
    let pooled = (real_sum + fake_sum) / 8.0;
    assert!(
        !tolerance.accepts(mean, pooled),
        "mean equals the pooled mean {pooled}"
    );

    let sum_loss = BceConfig::default()
        .with_reduction(Reduction::Sum)
        .build()?;
    let sum = scalar(&sum_loss.discriminator_loss(&real, &fake)?)?;
    assert_close_scalar(sum, real_sum + fake_sum, tolerance, "sum of all terms");
    Ok(())
}

/// Logits of ±100 and ±300 give finite values and the analytic gradient σ(x) − y in f32.
fn saturating_logits_f32(device: &Device) -> TestResult {
    let saturating = [-300.0, -100.0, 100.0, 300.0];
    let reference = RefBatch::plain(saturating.to_vec());
    for alpha in [0.0, 0.1] {
        let loss = BceConfig::default().with_label_smoothing(alpha).build()?;
        let real = TensorBatch::new(&reference, &[4], DType::F32, device)?;
        let fake = TensorBatch::new(&reference, &[4, 1], DType::F32, device)?;
        let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
        let expected = reference.reduce(|x| bce(x, 1.0 - alpha), Reduction::Mean)
            + reference.reduce(|x| bce(x, 0.0), Reduction::Mean);
        let tolerance = Tolerance::for_dtype(DType::F32);
        assert!(scalar(&value)?.is_finite(), "α {alpha}: loss not finite");
        assert_close_scalar(scalar(&value)?, expected, tolerance, "saturating loss");

        let grads = value.backward()?;
        let real_expected: Vec<f64> = saturating
            .iter()
            .map(|&x| (sigmoid(x) - (1.0 - alpha)) / 4.0)
            .collect();
        let fake_expected: Vec<f64> = saturating.iter().map(|&x| sigmoid(x) / 4.0).collect();
        assert_close(
            &real.gradient(&grads)?,
            &real_expected,
            tolerance,
            &format!("α {alpha}: real gradient"),
        );
        assert_close(
            &fake.gradient(&grads)?,
            &fake_expected,
            tolerance,
            &format!("α {alpha}: fake gradient"),
        );

        for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
            let loss = BceConfig::default()
                .with_generator(form)
                .with_label_smoothing(alpha)
                .build()?;
            let value = loss.generator_loss(fake.logits.as_tensor())?;
            let (expected, derivative): (f64, Vec<f64>) = match form {
                GeneratorForm::NonSaturating => (
                    reference.reduce(|x| bce(x, 1.0), Reduction::Mean),
                    saturating
                        .iter()
                        .map(|&x| (sigmoid(x) - 1.0) / 4.0)
                        .collect(),
                ),
                GeneratorForm::Saturating => (
                    -reference.reduce(|x| bce(x, 0.0), Reduction::Mean),
                    saturating.iter().map(|&x| -sigmoid(x) / 4.0).collect(),
                ),
            };
            assert_close_scalar(scalar(&value)?, expected, tolerance, "generator loss");
            let grads = value.backward()?;
            assert_close(
                &fake.gradient(&grads)?,
                &derivative,
                tolerance,
                &format!("{form:?}: generator gradient"),
            );
        }
    }
    Ok(())
}

/// Computes the loss and its gradients for one pair of single-element batches.
fn single_pair(
    real: f64,
    fake: f64,
    dtype: DType,
    device: &Device,
) -> Result<[f64; 3], Box<dyn std::error::Error>> {
    let real = TensorBatch::new(&RefBatch::plain(vec![real]), &[1], dtype, device)?;
    let fake = TensorBatch::new(&RefBatch::plain(vec![fake]), &[1], dtype, device)?;
    let value = BceLoss::new().discriminator_loss_with(&real.batch(), &fake.batch())?;
    let grads = value.backward()?;
    Ok([
        scalar(&value)?,
        real.gradient(&grads)?[0],
        fake.gradient(&grads)?[0],
    ])
}

/// An infinite logit on the correct side gives 0, on the wrong side +∞, and the gradient stays
/// finite (σ(x) − y) on both sides.
fn infinite_logits(device: &Device) -> TestResult {
    let inf = f64::INFINITY;
    for dtype in DTYPES {
        let [value, real_gradient, fake_gradient] = single_pair(inf, -inf, dtype, device)?;
        assert_eq!(value, 0.0, "{dtype:?}: correct side");
        assert_eq!(real_gradient, 0.0, "{dtype:?}: real gradient, correct side");
        assert_eq!(fake_gradient, 0.0, "{dtype:?}: fake gradient, correct side");

        let [value, real_gradient, fake_gradient] = single_pair(-inf, inf, dtype, device)?;
        assert_eq!(value, inf, "{dtype:?}: wrong side");
        assert_eq!(real_gradient, -1.0, "{dtype:?}: real gradient, wrong side");
        assert_eq!(fake_gradient, 1.0, "{dtype:?}: fake gradient, wrong side");

        let [value, real_gradient, fake_gradient] = single_pair(-inf, -inf, dtype, device)?;
        assert_eq!(value, inf, "{dtype:?}: real wrong, fake correct");
        assert_eq!(real_gradient, -1.0, "{dtype:?}: real gradient, real wrong");
        assert_eq!(fake_gradient, 0.0, "{dtype:?}: fake gradient, fake correct");

        // With a smoothed real target both softplus terms count, so either infinity costs +∞,
        // and the gradient is still the finite σ(x) − (1 − α).
        let smoothed = BceConfig::default().with_label_smoothing(0.1).build()?;
        for x in [inf, -inf] {
            let real = TensorBatch::new(&RefBatch::plain(vec![x]), &[1], dtype, device)?;
            let fake = TensorBatch::new(&RefBatch::plain(vec![-inf]), &[1], dtype, device)?;
            let value = smoothed.discriminator_loss_with(&real.batch(), &fake.batch())?;
            let what = format!("{dtype:?} smoothed real at {x}");
            assert_eq!(scalar(&value)?, inf, "{what}: value");
            let gradient = real.gradient(&value.backward()?)?[0];
            let tolerance = Tolerance::for_dtype(dtype);
            assert_close_scalar(gradient, sigmoid(x) - 0.9, tolerance, &what);
        }

        for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
            let loss = BceConfig::default().with_generator(form).build()?;
            for x in [inf, -inf] {
                let fake = TensorBatch::new(&RefBatch::plain(vec![x]), &[1], dtype, device)?;
                let value = loss.generator_loss(fake.logits.as_tensor())?;
                let gradient = fake.gradient(&value.backward()?)?[0];
                let (expected, expected_gradient) = match form {
                    GeneratorForm::NonSaturating => (bce(x, 1.0), sigmoid(x) - 1.0),
                    GeneratorForm::Saturating => (-bce(x, 0.0), -sigmoid(x)),
                };
                let what = format!("{dtype:?} {form:?} generator at {x}");
                assert_eq!(scalar(&value)?, expected, "{what}: value");
                assert_eq!(gradient, expected_gradient, "{what}: gradient");
            }
        }
    }
    Ok(())
}

/// NaN in the logits propagates to the loss under every reduction and to the generator loss.
fn nan_propagates(device: &Device) -> TestResult {
    for dtype in DTYPES {
        for reduction in REDUCTIONS {
            let loss = BceConfig::default().with_reduction(reduction).build()?;
            let with_nan = tensor(&[0.5, f64::NAN, -1.0], &[3], dtype, device)?;
            let finite = tensor(&[0.5, -1.0], &[2], dtype, device)?;
            let what = format!("{dtype:?} {reduction:?}");
            let real_nan = scalar(&loss.discriminator_loss(&with_nan, &finite)?)?;
            assert!(real_nan.is_nan(), "{what}: NaN real logit gave {real_nan}");
            let fake_nan = scalar(&loss.discriminator_loss(&finite, &with_nan)?)?;
            assert!(fake_nan.is_nan(), "{what}: NaN fake logit gave {fake_nan}");
            let generator = scalar(&loss.generator_loss(&with_nan)?)?;
            assert!(
                generator.is_nan(),
                "{what}: NaN generator logit gave {generator}"
            );

            let smoothed = BceConfig::default()
                .with_reduction(reduction)
                .with_label_smoothing(0.1)
                .build()?;
            let value = scalar(&smoothed.discriminator_loss(&with_nan, &finite)?)?;
            assert!(value.is_nan(), "{what}: NaN with smoothing gave {value}");

            let probability = BceConfig::default()
                .with_reduction(reduction)
                .with_input(Input::Probabilities)
                .build()?;
            let p_nan = tensor(&[0.5, f64::NAN], &[2], dtype, device)?;
            let p_finite = tensor(&[0.25], &[1], dtype, device)?;
            let real_nan = scalar(&probability.discriminator_loss(&p_nan, &p_finite)?)?;
            assert!(
                real_nan.is_nan(),
                "{what}: NaN real probability gave {real_nan}"
            );
            let fake_nan = scalar(&probability.discriminator_loss(&p_finite, &p_nan)?)?;
            assert!(
                fake_nan.is_nan(),
                "{what}: NaN fake probability gave {fake_nan}"
            );
            let generator = scalar(&probability.generator_loss(&p_nan)?)?;
            assert!(
                generator.is_nan(),
                "{what}: NaN probability generator gave {generator}"
            );
        }
    }
    Ok(())
}

/// A group whose mask excludes every element contributes 0 under both reductions.
fn fully_masked_group(device: &Device) -> TestResult {
    for dtype in DTYPES {
        for reduction in REDUCTIONS {
            let loss = BceConfig::default().with_reduction(reduction).build()?;
            let real = tensor(&[0.5, -2.0, 1.0], &[3], dtype, device)?;
            let none = tensor(&[0.0, 0.0, 0.0], &[3], dtype, device)?;
            let fake_values = [0.25, -1.5];
            let fake = tensor(&fake_values, &[2], dtype, device)?;
            let value = loss
                .discriminator_loss_with(&Batch::new(&real).with_mask(&none), &Batch::new(&fake))?;
            let fake_ref = RefBatch::plain(values(&fake)?);
            let expected = fake_ref.reduce(|x| bce(x, 0.0), reduction);
            let what = format!("{dtype:?} {reduction:?}");
            assert_close_scalar(
                scalar(&value)?,
                expected,
                Tolerance::for_dtype(dtype),
                &what,
            );
        }
    }
    Ok(())
}

/// BCE generator losses read only the fake batch: they do not ask for the real logits and
/// ignore them when given.
fn generator_ignores_real(device: &Device) -> TestResult {
    let real = tensor(&[3.0, -1.0], &[2], DType::F32, device)?;
    let fake = tensor(&[0.5, -2.0, 1.0], &[3], DType::F32, device)?;
    for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
        let loss = BceConfig::default().with_generator(form).build()?;
        assert!(!loss.needs_real_logits(), "{form:?}");
        let with_real =
            values(&loss.generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))?)?;
        let without = values(&loss.generator_loss(&fake)?)?;
        assert_eq!(with_real, without, "{form:?}");
    }
    Ok(())
}

/// Probabilities of exactly 0 or 1 give finite losses with the logs clamped at −100.
fn probability_clamped_logs(device: &Device) -> TestResult {
    let loss = BceConfig::default()
        .with_input(Input::Probabilities)
        .with_reduction(Reduction::Sum)
        .build()?;
    for dtype in DTYPES {
        let zero = tensor(&[0.0], &[1], dtype, device)?;
        let one = tensor(&[1.0], &[1], dtype, device)?;
        let tolerance = Tolerance::for_dtype(dtype);

        let wrong = scalar(&loss.discriminator_loss(&zero, &one)?)?;
        assert_close_scalar(wrong, 200.0, tolerance, "p = 0 real, p = 1 fake");
        let right = scalar(&loss.discriminator_loss(&one, &zero)?)?;
        assert_eq!(right, 0.0, "{dtype:?}: p = 1 real, p = 0 fake");

        let generator = scalar(&loss.generator_loss(&zero)?)?;
        assert_close_scalar(generator, 100.0, tolerance, "generator at p = 0");
    }
    Ok(())
}

/// For interior p = σ(x) the probability form equals the logit form.
fn probability_equals_logit_path(device: &Device) -> TestResult {
    let xs: Vec<f64> = (0..12).map(|i| -6.0 + i as f64).collect();
    let ps: Vec<f64> = xs.iter().map(|&x| sigmoid(x)).collect();
    let logit_tensor = tensor(&xs, &[12], DType::F64, device)?;
    let probability_tensor = tensor(&ps, &[12], DType::F64, device)?;
    for alpha in [0.0, 0.15] {
        for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
            let config = BceConfig::default()
                .with_label_smoothing(alpha)
                .with_generator(form);
            let logit_loss = config.build()?;
            let probability_loss = config.with_input(Input::Probabilities).build()?;
            let tolerance = Tolerance::new(1e-9, 1e-12);
            let what = format!("α {alpha} {form:?}");

            let from_logits =
                scalar(&logit_loss.discriminator_loss(&logit_tensor, &logit_tensor)?)?;
            let from_probabilities = scalar(
                &probability_loss.discriminator_loss(&probability_tensor, &probability_tensor)?,
            )?;
            assert_close_scalar(from_probabilities, from_logits, tolerance, &what);

            let g_logits = scalar(&logit_loss.generator_loss(&logit_tensor)?)?;
            let g_probabilities = scalar(&probability_loss.generator_loss(&probability_tensor)?)?;
            assert_close_scalar(g_probabilities, g_logits, tolerance, &what);
        }
    }
    Ok(())
}

/// Half dtypes return their own dtype, and f16 logits near ±60000 give a finite loss of the
/// right size.
fn half_dtypes_near_overflow(device: &Device) -> TestResult {
    let real = tensor(&[60000.0, -60000.0], &[2], DType::F16, device)?;
    let fake = tensor(&[-60000.0, 60000.0], &[2], DType::F16, device)?;
    let loss = BceLoss::new();
    let value = loss.discriminator_loss(&real, &fake)?;
    assert_eq!(value.dtype(), DType::F16);
    let expected = 30000.0 + 30000.0;
    assert_close_scalar(
        scalar(&value)?,
        expected,
        Tolerance::for_dtype(DType::F16),
        "f16 discriminator",
    );

    let generator = loss.generator_loss(&tensor(&[-60000.0], &[1], DType::F16, device)?)?;
    assert_eq!(generator.dtype(), DType::F16);
    assert_close_scalar(
        scalar(&generator)?,
        60000.0,
        Tolerance::for_dtype(DType::F16),
        "f16 generator",
    );
    for dtype in [DType::F16, DType::BF16] {
        let x = tensor(&[1.0, -2.0], &[2], dtype, device)?;
        let terms = loss.discriminator_terms(&Batch::new(&x), &Batch::new(&x))?;
        assert_eq!(terms.real.dtype(), dtype, "real terms");
        assert_eq!(terms.fake.dtype(), dtype, "fake terms");
        let g = loss.generator_loss(&x)?;
        assert_eq!(g.dtype(), dtype, "generator loss");
    }
    Ok(())
}

/// The element terms sum to the `Sum` loss, each group's sum over its count gives the `Mean`
/// loss, and masked elements are exactly 0.
fn terms_reduce_to_loss(device: &Device) -> TestResult {
    let mut real_ref = logit_batch(REAL_COUNT, 15);
    real_ref.mask = Some(sample_mask(REAL_COUNT, 0));
    real_ref.weights = Some(sample_weights(REAL_COUNT, 6));
    let fake_ref = logit_batch(FAKE_COUNT, 16);
    for dtype in [DType::F32, DType::F64] {
        let real = TensorBatch::new(&real_ref, &[REAL_COUNT, 1], dtype, device)?;
        let fake = TensorBatch::new(&fake_ref, &[FAKE_COUNT], dtype, device)?;
        let tolerance = Tolerance::for_dtype(dtype);
        let config = BceConfig::default().with_label_smoothing(0.1);

        let terms = config
            .build()?
            .discriminator_terms(&real.batch(), &fake.batch())?;
        let real_terms = values(&terms.real)?;
        let fake_terms = values(&terms.fake)?;
        let mask = real.reference.mask.clone().unwrap_or_default();
        for (index, (&term, &keep)) in real_terms.iter().zip(&mask).enumerate() {
            if keep == 0.0 {
                assert_eq!(term, 0.0, "{dtype:?}: masked term at {index}");
            }
        }

        let sum_loss = config.with_reduction(Reduction::Sum).build()?;
        let sum = scalar(&sum_loss.discriminator_loss_with(&real.batch(), &fake.batch())?)?;
        let terms_total: f64 = real_terms.iter().chain(&fake_terms).sum();
        assert_close_scalar(sum, terms_total, tolerance, "terms sum to the Sum loss");

        let mean_loss = config.with_reduction(Reduction::Mean).build()?;
        let mean = scalar(&mean_loss.discriminator_loss_with(&real.batch(), &fake.batch())?)?;
        let included = mask.iter().filter(|&&m| m != 0.0).count() as f64;
        let real_sum: f64 = real_terms.iter().sum();
        let fake_sum: f64 = fake_terms.iter().sum();
        let expected = real_sum / included + fake_sum / FAKE_COUNT as f64;
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

/// Mean of `f(x)` over the included elements of `batch`.
fn included_mean(batch: &RefBatch, f: impl Fn(f64) -> f64) -> f64 {
    let mask = batch
        .mask
        .clone()
        .unwrap_or_else(|| vec![1.0; batch.x.len()]);
    let kept: Vec<f64> = batch
        .x
        .iter()
        .zip(&mask)
        .filter(|(_, &m)| m != 0.0)
        .map(|(&x, _)| f(x))
        .collect();
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Every summary figure against the value computed here, with and without a mask.
fn summary_figures(device: &Device) -> TestResult {
    let real_logits = vec![2.0, -1.0, 0.0, 300.0, -100.0, 0.5];
    let fake_logits = vec![-3.0, 1.0, 0.0, -300.0];
    for input in [Input::Logits, Input::Probabilities] {
        for masked in [false, true] {
            let score = |x: f64| match input {
                Input::Logits => sigmoid(x),
                Input::Probabilities => x,
            };
            let map = |v: &Vec<f64>| -> Vec<f64> {
                match input {
                    Input::Logits => v.clone(),
                    Input::Probabilities => v.iter().map(|&x| sigmoid(x)).collect(),
                }
            };
            let boundary = match input {
                Input::Logits => 0.0,
                Input::Probabilities => 0.5,
            };
            let mut real_ref = RefBatch::plain(map(&real_logits));
            let mut fake_ref = RefBatch::plain(map(&fake_logits));
            if masked {
                real_ref.mask = Some(vec![1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
                fake_ref.mask = Some(vec![0.0, 1.0, 1.0, 1.0]);
            }
            let real = TensorBatch::new(&real_ref, &[6], DType::F64, device)?;
            let fake = TensorBatch::new(&fake_ref, &[4], DType::F64, device)?;
            let (r, f) = (&real.reference, &fake.reference);
            let loss = BceConfig::default().with_input(input).build()?;
            let summary = loss.discriminator_summary(&real.batch(), &fake.batch())?;
            let tolerance = Tolerance::for_dtype(DType::F64);
            let what = |figure: &str| format!("{input:?} masked {masked}: {figure}");

            let term = |x: f64, y: f64| match input {
                Input::Logits => bce(x, y),
                Input::Probabilities => bce_probability(x, y),
            };
            let real_term = r.reduce(|x| term(x, 1.0), Reduction::Mean);
            let fake_term = f.reduce(|x| term(x, 0.0), Reduction::Mean);
            assert_close_scalar(summary.real_term, real_term, tolerance, &what("real term"));
            assert_close_scalar(summary.fake_term, fake_term, tolerance, &what("fake term"));
            assert_close_scalar(
                summary.loss,
                real_term + fake_term,
                tolerance,
                &what("loss"),
            );
            let real_score = included_mean(r, score);
            let fake_score = included_mean(f, score);
            assert_close_scalar(
                summary.real_score,
                real_score,
                tolerance,
                &what("real score"),
            );
            assert_close_scalar(
                summary.fake_score,
                fake_score,
                tolerance,
                &what("fake score"),
            );
            let real_accuracy = included_mean(r, |x| f64::from(u8::from(x > boundary)));
            let fake_accuracy = included_mean(f, |x| f64::from(u8::from(x < boundary)));
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
            let sign_mean = included_mean(r, |x| sign(x - boundary));
            assert_close_scalar(
                summary.real_sign_mean,
                sign_mean,
                tolerance,
                &what("sign mean"),
            );
            let wasserstein = included_mean(r, |x| x) - included_mean(f, |x| x);
            assert_close_scalar(
                summary.wasserstein_estimate,
                wasserstein,
                tolerance,
                &what("Wasserstein estimate"),
            );
            assert_eq!(summary.inside_margin_fraction, None, "{}", what("margin"));
        }
    }
    Ok(())
}

/// Logits of shape `[B, 1]` with weights of the same shape are weighted elementwise, never as a
/// `[B, B]` product.
fn weights_match_logits_shape(device: &Device) -> TestResult {
    let x = [0.3, -1.2, 2.0];
    let w = [1.0, 0.0, 2.0];
    let logits = tensor(&x, &[3, 1], DType::F64, device)?;
    let weights = tensor(&w, &[3, 1], DType::F64, device)?;
    let fake = tensor(&[0.0], &[1], DType::F64, device)?;
    let loss = BceLoss::new();
    let value = scalar(&loss.discriminator_loss_with(
        &Batch::new(&logits).with_weights(&weights),
        &Batch::new(&fake),
    )?)?;
    let weighted: f64 = x.iter().zip(&w).map(|(&x, &w)| w * bce(x, 1.0)).sum();
    let expected = weighted / 3.0 + bce(0.0, 0.0);
    assert_close_scalar(value, expected, Tolerance::for_dtype(DType::F64), "[B, 1]");

    let mask = Tensor::new(&[[1u8], [0], [1]], device)?;
    let masked = scalar(
        &loss.discriminator_loss_with(&Batch::new(&logits).with_mask(&mask), &Batch::new(&fake))?,
    )?;
    let expected = (bce(x[0], 1.0) + bce(x[2], 1.0)) / 2.0 + bce(0.0, 0.0);
    assert_close_scalar(
        masked,
        expected,
        Tolerance::for_dtype(DType::F64),
        "u8 mask",
    );
    Ok(())
}

/// Transposed (non-contiguous) logits, weights and masks, and rank-0 logits, give the reference
/// value.
fn strided_and_scalar_inputs(device: &Device) -> TestResult {
    let x = logits(8, 17);
    let w = sample_weights(8, 7);
    let m = sample_mask(8, 2);
    for dtype in [DType::F32, DType::F64] {
        let logits_t = tensor(&x, &[4, 2], dtype, device)?.t()?;
        let weights_t = tensor(&w, &[4, 2], dtype, device)?.t()?;
        let mask_t = tensor(&m, &[4, 2], dtype, device)?.t()?;
        assert!(
            !logits_t.is_contiguous(),
            "the transposed logits are strided"
        );

        let real = Batch::new(&logits_t)
            .with_weights(&weights_t)
            .with_mask(&mask_t);
        let fake_scalar = tensor(&[0.75], &[], dtype, device)?;
        let loss = BceLoss::new();
        let value = scalar(&loss.discriminator_loss_with(&real, &Batch::new(&fake_scalar))?)?;

        let reference = RefBatch {
            x: values(&logits_t)?,
            weights: Some(values(&weights_t)?),
            mask: Some(values(&mask_t)?),
        };
        let expected = reference.reduce(|x| bce(x, 1.0), Reduction::Mean) + bce(0.75, 0.0);
        let what = format!("{dtype:?} strided");
        assert_close_scalar(value, expected, Tolerance::for_dtype(dtype), &what);

        let terms = loss.discriminator_terms(&real, &Batch::new(&fake_scalar))?;
        assert_eq!(terms.real.dims(), &[2, 4], "{what}: real terms shape");
        assert_eq!(
            terms.fake.dims(),
            &[] as &[usize],
            "{what}: fake terms shape"
        );
        let expected_terms = reference.terms(|x| bce(x, 1.0));
        assert_close(
            &values(&terms.real)?,
            &expected_terms,
            Tolerance::for_dtype(dtype),
            &format!("{what}: real terms"),
        );
    }
    Ok(())
}

/// A masked-out logit, even NaN or infinite, leaves the loss unchanged and gets a zero gradient,
/// so it cannot poison the gradients of the network that produced it.
fn masked_non_finite_logits(device: &Device) -> TestResult {
    let inf = f64::INFINITY;
    for dtype in DTYPES {
        for input in [Input::Logits, Input::Probabilities] {
            for reduction in REDUCTIONS {
                let loss = BceConfig::default()
                    .with_input(input)
                    .with_reduction(reduction)
                    .with_label_smoothing(0.1)
                    .build()?;
                let kept = match input {
                    Input::Logits => [0.5, -2.0],
                    Input::Probabilities => [0.7, 0.2],
                };
                let excluded: &[f64] = match input {
                    Input::Logits => &[f64::NAN, inf, -inf],
                    Input::Probabilities => &[f64::NAN],
                };
                for &bad in excluded {
                    let mut reference = RefBatch::plain(vec![kept[0], bad, kept[1]]);
                    reference.mask = Some(vec![1.0, 0.0, 1.0]);
                    reference.weights = Some(vec![1.0, 2.0, 0.5]);
                    let real = TensorBatch::new(&reference, &[3], dtype, device)?;
                    let fake = TensorBatch::new(&reference, &[3, 1], dtype, device)?;
                    let what = format!("{dtype:?} {input:?} {reduction:?} masked {bad}");

                    let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
                    let term = |y: f64| {
                        move |x: f64| match input {
                            Input::Logits => bce(x, y),
                            Input::Probabilities => bce_probability(x, y),
                        }
                    };
                    let expected = real.reference.reduce(term(0.9), reduction)
                        + fake.reference.reduce(term(0.0), reduction);
                    let tolerance = Tolerance::for_dtype(dtype);
                    assert_close_scalar(scalar(&value)?, expected, tolerance, &what);

                    let grads = value.backward()?;
                    for (side, batch) in [("real", &real), ("fake", &fake)] {
                        let gradient = batch.gradient(&grads)?;
                        assert_eq!(
                            gradient[1], 0.0,
                            "{what}: {side} gradient of the masked logit"
                        );
                        let finite = gradient.iter().all(|g| g.is_finite());
                        assert!(finite, "{what}: {side} gradient {gradient:?}");
                    }

                    let generator = loss.generator_loss_with(None, &fake.batch())?;
                    let gradient = fake.gradient(&generator.backward()?)?;
                    assert!(scalar(&generator)?.is_finite(), "{what}: generator loss");
                    assert_eq!(
                        gradient[1], 0.0,
                        "{what}: generator gradient of the masked logit"
                    );
                }
            }
        }
    }
    Ok(())
}

device_tests!(masked_non_finite_logits,);

device_tests!(
    strided_and_scalar_inputs,
    fully_masked_group,
    generator_ignores_real,
    generator_matches_reference,
    generator_never_smoothed,
    groups_of_different_sizes,
    saturating_logits_f32,
    infinite_logits,
    nan_propagates,
    probability_clamped_logs,
    probability_equals_logit_path,
    half_dtypes_near_overflow,
    terms_reduce_to_loss,
    summary_figures,
    weights_match_logits_shape,
);
