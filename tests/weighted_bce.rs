//! `WeightedBceLoss` against the f64 reference: group weights on the real and the fake mean, an
//! unweighted generator loss, and equality with `BceLoss` for weights (1, 1).

mod common;

use candle_core::{DType, Device};
use common::{
    assert_close, assert_close_scalar, bce, logits, sample_mask, sample_weights, scalar, shapes,
    tensor, values, RefBatch, TensorBatch, TestResult, Tolerance, DTYPES,
};
use gan_losses::{
    BceConfig, BceLoss, DiscriminatorLoss, GeneratorForm, GeneratorLoss, Reduction, WeightedBceLoss,
};

const REAL_COUNT: usize = 8;
const FAKE_COUNT: usize = 12;

/// D = w_r·reduce ℓ(r, 1) + w_f·reduce ℓ(f, 0) in every dtype, reduction and shape, with
/// per-sample weights and a mask on top of the group weights.
fn matches_reference(device: &Device) -> TestResult {
    let mut real_ref = RefBatch::plain(logits(REAL_COUNT, 1));
    real_ref.weights = Some(sample_weights(REAL_COUNT, 2));
    let mut fake_ref = RefBatch::plain(logits(FAKE_COUNT, 3));
    fake_ref.mask = Some(sample_mask(FAKE_COUNT, 1));
    for (real_weight, fake_weight) in [(3.0, 1.0), (0.5, 2.0), (0.0, 1.0), (1.0, 0.0)] {
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let config = BceConfig::default()
                .with_group_weights(real_weight, fake_weight)
                .with_reduction(reduction);
            let loss = WeightedBceLoss::from_config(config)?;
            for dtype in DTYPES {
                let real_shapes = shapes(REAL_COUNT);
                let fake_shapes = shapes(FAKE_COUNT);
                for (real_shape, fake_shape) in real_shapes.iter().zip(&fake_shapes) {
                    let real = TensorBatch::new(&real_ref, real_shape, dtype, device)?;
                    let fake = TensorBatch::new(&fake_ref, fake_shape, dtype, device)?;
                    let what = format!(
                        "weights ({real_weight}, {fake_weight}) {reduction:?} {dtype:?} \
                         {real_shape:?}"
                    );
                    let value = loss.discriminator_loss_with(&real.batch(), &fake.batch())?;
                    assert_eq!(value.dtype(), dtype, "{what}: dtype");
                    let expected = real_weight * real.reference.reduce(|x| bce(x, 1.0), reduction)
                        + fake_weight * fake.reference.reduce(|x| bce(x, 0.0), reduction);
                    let tolerance = Tolerance::for_dtype(dtype);
                    assert_close_scalar(scalar(&value)?, expected, tolerance, &what);

                    let terms = loss.discriminator_terms(&real.batch(), &fake.batch())?;
                    let real_terms: Vec<f64> = real
                        .reference
                        .terms(|x| bce(x, 1.0))
                        .into_iter()
                        .map(|t| real_weight * t)
                        .collect();
                    let fake_terms: Vec<f64> = fake
                        .reference
                        .terms(|x| bce(x, 0.0))
                        .into_iter()
                        .map(|t| fake_weight * t)
                        .collect();
                    let real_what = format!("{what}: real terms");
                    assert_close(&values(&terms.real)?, &real_terms, tolerance, &real_what);
                    let fake_what = format!("{what}: fake terms");
                    assert_close(&values(&terms.fake)?, &fake_terms, tolerance, &fake_what);

                    let summary = loss.discriminator_summary(&real.batch(), &fake.batch())?;
                    let real_part = real_weight * real.reference.reduce(|x| bce(x, 1.0), reduction);
                    assert_close_scalar(summary.real_term, real_part, tolerance, &real_what);
                }
            }
        }
    }
    Ok(())
}

/// Weights (1, 1) give exactly the `BceLoss` value, in every dtype and option set.
fn unit_weights_equal_bce(device: &Device) -> TestResult {
    for dtype in DTYPES {
        let real = tensor(&logits(REAL_COUNT, 4), &[REAL_COUNT, 1], dtype, device)?;
        let fake = tensor(&logits(FAKE_COUNT, 5), &[FAKE_COUNT, 1], dtype, device)?;
        for config in [
            BceConfig::default(),
            BceConfig::default().with_reduction(Reduction::Sum),
            BceConfig::default().with_label_smoothing(0.2),
        ] {
            let weighted = WeightedBceLoss::from_config(config.with_group_weights(1.0, 1.0))?;
            let plain = BceLoss::from_config(config)?;
            let what = format!("{dtype:?} {config:?}");
            let weighted_value = values(&weighted.discriminator_loss(&real, &fake)?)?;
            let plain_value = values(&plain.discriminator_loss(&real, &fake)?)?;
            assert_eq!(weighted_value, plain_value, "{what}");
        }
        let weighted = WeightedBceLoss::new(1.0, 1.0)?;
        let value = values(&weighted.discriminator_loss(&real, &fake)?)?;
        let plain = values(&BceLoss::new().discriminator_loss(&real, &fake)?)?;
        assert_eq!(value, plain, "{dtype:?}: WeightedBceLoss::new(1, 1)");
    }
    Ok(())
}

/// The generator loss ignores the group weights.
fn generator_unweighted(device: &Device) -> TestResult {
    for dtype in DTYPES {
        let fake = tensor(&logits(FAKE_COUNT, 6), &[FAKE_COUNT], dtype, device)?;
        for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
            let config = BceConfig::default().with_generator(form);
            let weighted = WeightedBceLoss::from_config(config.with_group_weights(4.0, 0.25))?;
            let plain = BceLoss::from_config(config)?;
            let weighted_value = values(&weighted.generator_loss(&fake)?)?;
            let plain_value = values(&plain.generator_loss(&fake)?)?;
            assert_eq!(weighted_value, plain_value, "{dtype:?} {form:?}");

            let x = values(&fake)?;
            let expected = match form {
                GeneratorForm::NonSaturating => {
                    common::mean(&x.iter().map(|&x| bce(x, 1.0)).collect::<Vec<_>>())
                }
                GeneratorForm::Saturating => {
                    -common::mean(&x.iter().map(|&x| bce(x, 0.0)).collect::<Vec<_>>())
                }
            };
            assert_close_scalar(
                weighted_value[0],
                expected,
                Tolerance::for_dtype(dtype),
                &format!("{dtype:?} {form:?}"),
            );
        }
    }
    Ok(())
}

/// The config reports the weights it was built with.
#[test]
fn config_keeps_weights() -> TestResult {
    let loss = WeightedBceLoss::new(3.0, 0.5)?;
    assert_eq!(loss.config().real_weight, 3.0);
    assert_eq!(loss.config().fake_weight, 0.5);
    Ok(())
}

/// With group weights the gradient of each batch is scaled by its weight: w·(σ(x) − y)/N.
fn gradient_scaled_by_group_weight(device: &Device) -> TestResult {
    let real_ref = RefBatch::plain(logits(REAL_COUNT, 7));
    let fake_ref = RefBatch::plain(logits(FAKE_COUNT, 8));
    let loss = WeightedBceLoss::new(2.5, 0.75)?;
    for dtype in [DType::F32, DType::F64] {
        let real = TensorBatch::new(&real_ref, &[REAL_COUNT], dtype, device)?;
        let fake = TensorBatch::new(&fake_ref, &[FAKE_COUNT], dtype, device)?;
        let grads = loss
            .discriminator_loss_with(&real.batch(), &fake.batch())?
            .backward()?;
        let tolerance = Tolerance::for_dtype(dtype);
        let real_expected =
            real.reference
                .gradient(|x| common::bce_derivative(x, 1.0), 2.5, Reduction::Mean);
        let fake_expected =
            fake.reference
                .gradient(|x| common::bce_derivative(x, 0.0), 0.75, Reduction::Mean);
        assert_close(
            &real.gradient(&grads)?,
            &real_expected,
            tolerance,
            "real gradient",
        );
        assert_close(
            &fake.gradient(&grads)?,
            &fake_expected,
            tolerance,
            "fake gradient",
        );
    }
    Ok(())
}

device_tests!(
    matches_reference,
    unit_weights_equal_bce,
    generator_unweighted,
    gradient_scaled_by_group_weight,
);
