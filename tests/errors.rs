//! Bad input and bad options return an `Error` naming the value, never a panic.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{tensor, TestResult};
use gan_losses::{
    Batch, BceConfig, BceLoss, DiscriminatorLoss, Error, GeneratorLoss, HingeConfig, HingeLoss,
    Input, WeightedBceLoss,
};

/// Builds one loss of each kind, each usable through both traits.
fn losses() -> Vec<(&'static str, Box<dyn Both>)> {
    vec![
        ("bce", Box::new(BceLoss::new())),
        (
            "bce probabilities",
            Box::new(
                BceConfig::default()
                    .with_input(Input::Probabilities)
                    .build()
                    .expect("valid options"),
            ),
        ),
        (
            "weighted bce",
            Box::new(WeightedBceLoss::new(2.0, 0.5).expect("valid weights")),
        ),
        ("hinge", Box::new(HingeLoss::new())),
    ]
}

trait Both: DiscriminatorLoss + GeneratorLoss {}
impl<T: DiscriminatorLoss + GeneratorLoss> Both for T {}

/// Runs the discriminator loss, its terms and its summary, and returns the three results.
fn all_discriminator_calls(
    loss: &dyn Both,
    real: &Batch<'_>,
    fake: &Batch<'_>,
) -> [Result<(), Error>; 3] {
    [
        loss.discriminator_loss_with(real, fake).map(|_| ()),
        loss.discriminator_terms(real, fake).map(|_| ()),
        loss.discriminator_summary(real, fake).map(|_| ()),
    ]
}

fn empty_batch(device: &Device) -> TestResult {
    let empty = Tensor::zeros((0,), DType::F32, device)?;
    let empty_2d = Tensor::zeros((0, 1), DType::F32, device)?;
    let full = tensor(&[0.5, 0.25], &[2], DType::F32, device)?;
    for (name, loss) in losses() {
        for result in all_discriminator_calls(&*loss, &Batch::new(&empty), &Batch::new(&full)) {
            let error = result.expect_err(name);
            assert!(
                matches!(
                    &error,
                    Error::EmptyBatch {
                        name: "real logits",
                        ..
                    }
                ),
                "{name}: {error}"
            );
        }
        for result in all_discriminator_calls(&*loss, &Batch::new(&full), &Batch::new(&empty_2d)) {
            let error = result.expect_err(name);
            assert!(
                matches!(&error, Error::EmptyBatch { name: "fake logits", shape } if shape.dims() == [0, 1]),
                "{name}: {error}"
            );
            assert!(error.to_string().contains("[0, 1]"), "{name}: {error}");
        }
        let error = loss.generator_loss(&empty).expect_err(name);
        assert!(matches!(error, Error::EmptyBatch { .. }), "{name}: {error}");
    }
    Ok(())
}

fn integer_dtypes(device: &Device) -> TestResult {
    let float = tensor(&[0.5, 0.25], &[2], DType::F32, device)?;
    for dtype in [DType::U8, DType::U32, DType::I64] {
        let integer = Tensor::zeros((2,), dtype, device)?;
        for (name, loss) in losses() {
            let what = format!("{name} {dtype:?}");
            for (real, fake, side) in [
                (&integer, &float, "real logits"),
                (&float, &integer, "fake logits"),
            ] {
                for result in all_discriminator_calls(&*loss, &Batch::new(real), &Batch::new(fake))
                {
                    let error = result.expect_err(&what);
                    assert!(
                        matches!(&error, Error::UnsupportedDtype { name, dtype: found } if *name == side && *found == dtype),
                        "{what}: {error}"
                    );
                }
            }
            let error = loss.generator_loss(&integer).expect_err(&what);
            assert!(
                matches!(error, Error::UnsupportedDtype { dtype: found, .. } if found == dtype),
                "{what}: {error}"
            );
            let weights = Tensor::ones((2,), dtype, device)?;
            let error = loss
                .discriminator_loss_with(
                    &Batch::new(&float).with_weights(&weights),
                    &Batch::new(&float),
                )
                .expect_err(&what);
            assert!(
                matches!(
                    error,
                    Error::UnsupportedDtype {
                        name: "real weights",
                        ..
                    }
                ),
                "{what}: {error}"
            );
        }
    }
    Ok(())
}

fn real_and_fake_dtypes_differ(device: &Device) -> TestResult {
    let real = tensor(&[0.5, 0.25], &[2], DType::F32, device)?;
    for fake_dtype in [DType::F64, DType::F16, DType::BF16] {
        let fake = tensor(&[0.5], &[1], fake_dtype, device)?;
        for (name, loss) in losses() {
            for result in all_discriminator_calls(&*loss, &Batch::new(&real), &Batch::new(&fake)) {
                let error = result.expect_err(name);
                assert!(
                    matches!(&error, Error::DtypeMismatch { expected: DType::F32, found, .. } if *found == fake_dtype),
                    "{name}: {error}"
                );
            }
        }
    }
    Ok(())
}

fn invalid_sample_weights(device: &Device) -> TestResult {
    let logits = tensor(&[0.5, 0.25, -1.0, 2.0], &[4], DType::F32, device)?;
    let cases = [
        (2, -0.5),
        (0, f64::NAN),
        (3, f64::INFINITY),
        (1, f64::NEG_INFINITY),
    ];
    for (index, value) in cases {
        let mut w = vec![1.0, 0.5, 0.0, 2.0];
        w[index] = value;
        let weights = tensor(&w, &[4], DType::F32, device)?;
        for (name, loss) in losses() {
            let weighted = Batch::new(&logits).with_weights(&weights);
            let plain = Batch::new(&logits);
            for (real, fake, side) in [
                (&weighted, &plain, "real weights"),
                (&plain, &weighted, "fake weights"),
            ] {
                for result in all_discriminator_calls(&*loss, real, fake) {
                    let error = result.expect_err(name);
                    let what = format!("{name} {side} {value} at {index}: {error}");
                    match &error {
                        Error::InvalidWeight {
                            name,
                            index: found_index,
                            value: found,
                        } => {
                            assert_eq!(*name, side, "{what}");
                            assert_eq!(*found_index, index, "{what}");
                            let same = found == &value || (found.is_nan() && value.is_nan());
                            assert!(same, "{what}");
                        }
                        _ => panic!("expected InvalidWeight, got {what}"),
                    }
                    let message = error.to_string();
                    assert!(message.contains(&format!("index {index}")), "{message}");
                    assert!(message.contains(&value.to_string()), "{message}");
                }
            }
            let error = loss.generator_loss_with(None, &weighted).expect_err(name);
            assert!(
                matches!(error, Error::InvalidWeight { .. }),
                "{name}: {error}"
            );
        }
    }
    Ok(())
}

/// Logits `[B, 1]` with weights `[B]` are a shape mismatch naming both shapes, never a
/// `[B, B]` broadcast. The same holds for masks and for the transposed case.
fn weights_shape_mismatch(device: &Device) -> TestResult {
    let column = tensor(&[0.5, 0.25, -1.0], &[3, 1], DType::F32, device)?;
    let flat = tensor(&[1.0, 2.0, 3.0], &[3], DType::F32, device)?;
    let row = tensor(&[1.0, 2.0, 3.0], &[1, 3], DType::F32, device)?;
    for (name, loss) in losses() {
        for (logits, other, logits_text, other_text) in [
            (&column, &flat, "[3, 1]", "[3]"),
            (&flat, &column, "[3]", "[3, 1]"),
            (&column, &row, "[3, 1]", "[1, 3]"),
        ] {
            let cases = [
                (
                    "real weights",
                    Batch::new(logits).with_weights(other),
                    Batch::new(logits),
                ),
                (
                    "fake weights",
                    Batch::new(logits),
                    Batch::new(logits).with_weights(other),
                ),
                (
                    "real mask",
                    Batch::new(logits).with_mask(other),
                    Batch::new(logits),
                ),
                (
                    "fake mask",
                    Batch::new(logits),
                    Batch::new(logits).with_mask(other),
                ),
            ];
            for (side, real, fake) in cases {
                for result in all_discriminator_calls(&*loss, &real, &fake) {
                    let error = result.expect_err(name);
                    let what = format!("{name} {side}: {error}");
                    assert!(
                        matches!(&error, Error::ShapeMismatch { name, expected, found }
                            if *name == side && expected.dims() == logits.dims() && found.dims() == other.dims()),
                        "{what}"
                    );
                    let message = error.to_string();
                    assert!(message.contains(side), "{what}");
                    assert!(message.contains(logits_text), "{what}");
                    assert!(message.contains(other_text), "{what}");
                }
            }
            let weighted = Batch::new(logits).with_weights(other);
            let error = loss.generator_loss_with(None, &weighted).expect_err(name);
            assert!(
                matches!(error, Error::ShapeMismatch { .. }),
                "{name}: {error}"
            );
        }
    }
    Ok(())
}

fn probabilities_outside_unit_interval(device: &Device) -> TestResult {
    let loss = BceConfig::default()
        .with_input(Input::Probabilities)
        .build()?;
    let valid = tensor(&[0.0, 0.5, 1.0], &[3], DType::F32, device)?;
    for (index, value) in [(1, 1.5), (2, -0.25), (0, f64::INFINITY), (0, -1e-3)] {
        let mut p = vec![0.5, 0.0, 1.0];
        p[index] = value;
        let bad = tensor(&p, &[3], DType::F32, device)?;
        let found = f64::from(value as f32);
        for (real, fake, side) in [
            (&bad, &valid, "real probabilities"),
            (&valid, &bad, "fake probabilities"),
        ] {
            for result in all_discriminator_calls(&loss, &Batch::new(real), &Batch::new(fake)) {
                let error = result.expect_err(side);
                assert!(
                    matches!(&error, Error::InvalidProbability { name, index: i, value: v }
                        if *name == side && *i == index && *v == found),
                    "{side} {value}: {error}"
                );
            }
        }
        let error = loss.generator_loss(&bad).expect_err("generator");
        assert!(
            matches!(error, Error::InvalidProbability { index: i, .. } if i == index),
            "generator {value}: {error}"
        );
    }
    Ok(())
}

device_tests!(
    empty_batch,
    integer_dtypes,
    real_and_fake_dtypes_differ,
    invalid_sample_weights,
    weights_shape_mismatch,
    probabilities_outside_unit_interval,
);

fn assert_invalid_option(result: Result<impl std::fmt::Debug, Error>, option: &str, value: f64) {
    match result {
        Err(Error::InvalidOption {
            option: found,
            value: found_value,
            ..
        }) => {
            assert_eq!(found, option, "option name for {value}");
            let same = found_value == value || (found_value.is_nan() && value.is_nan());
            assert!(same, "{option}: reported {found_value}, expected {value}");
        }
        other => panic!("{option} = {value}: expected InvalidOption, got {other:?}"),
    }
}

#[test]
fn smoothing_outside_range() {
    for alpha in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY] {
        let result = BceConfig::default().with_label_smoothing(alpha).build();
        assert_invalid_option(result, "label_smoothing", alpha);
        let weighted =
            WeightedBceLoss::from_config(BceConfig::default().with_label_smoothing(alpha));
        assert_invalid_option(weighted, "label_smoothing", alpha);
    }
}

#[test]
fn smoothing_inside_range() {
    for alpha in [0.0, 0.1, 0.999] {
        let result = BceConfig::default().with_label_smoothing(alpha).build();
        assert!(result.is_ok(), "smoothing {alpha}: {result:?}");
    }
}

#[test]
fn targets_outside_unit_interval() {
    for value in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let real = BceConfig::default().with_targets(value, 0.0).build();
        assert_invalid_option(real, "real_target", value);
        let fake = BceConfig::default().with_targets(1.0, value).build();
        assert_invalid_option(fake, "fake_target", value);
    }
    for (real, fake) in [(0.0, 1.0), (1.0, 0.0), (0.7, 0.3)] {
        let result = BceConfig::default().with_targets(real, fake).build();
        assert!(result.is_ok(), "targets ({real}, {fake}): {result:?}");
    }
}

#[test]
fn margin_not_positive_and_finite() {
    for margin in [0.0, -1.0, f64::INFINITY, f64::NAN] {
        assert_invalid_option(HingeLoss::with_margin(margin), "real_margin", margin);
        let both = HingeConfig::default().with_margin(margin).build();
        assert_invalid_option(both, "real_margin", margin);
        let real = HingeConfig::default().with_margins(margin, 1.0).build();
        assert_invalid_option(real, "real_margin", margin);
        let fake = HingeConfig::default().with_margins(1.0, margin).build();
        assert_invalid_option(fake, "fake_margin", margin);
    }
}

#[test]
fn group_weights_negative_or_not_finite() {
    for weight in [-1.0, -1e-9, f64::INFINITY, f64::NAN] {
        let bce_real = BceConfig::default().with_group_weights(weight, 1.0).build();
        assert_invalid_option(bce_real, "real_weight", weight);
        let bce_fake = BceConfig::default().with_group_weights(1.0, weight).build();
        assert_invalid_option(bce_fake, "fake_weight", weight);
        assert_invalid_option(WeightedBceLoss::new(weight, 1.0), "real_weight", weight);
        assert_invalid_option(WeightedBceLoss::new(1.0, weight), "fake_weight", weight);
        let hinge_real = HingeConfig::default()
            .with_group_weights(weight, 1.0)
            .build();
        assert_invalid_option(hinge_real, "real_weight", weight);
        let hinge_fake = HingeConfig::default()
            .with_group_weights(1.0, weight)
            .build();
        assert_invalid_option(hinge_fake, "fake_weight", weight);
    }
    assert!(
        WeightedBceLoss::new(0.0, 0.0).is_ok(),
        "zero weights are valid"
    );
}

#[test]
fn option_message_names_value() {
    let error = HingeLoss::with_margin(-1.0).expect_err("negative margin");
    let message = error.to_string();
    assert!(message.contains("real_margin"), "{message}");
    assert!(message.contains("-1"), "{message}");
}

/// Batches on different devices are an error. Testing this needs a GPU backend.
#[cfg(any(feature = "cuda", feature = "metal"))]
#[test]
fn devices_differ() -> TestResult {
    #[cfg(feature = "cuda")]
    let gpu = Device::new_cuda(0)?;
    #[cfg(all(feature = "metal", not(feature = "cuda")))]
    let gpu = Device::new_metal(0)?;
    let cpu = Device::Cpu;
    let on_cpu = tensor(&[0.5, 0.25], &[2], DType::F32, &cpu)?;
    let on_gpu = tensor(&[0.5, 0.25], &[2], DType::F32, &gpu)?;
    for (name, loss) in losses() {
        for result in all_discriminator_calls(&*loss, &Batch::new(&on_cpu), &Batch::new(&on_gpu)) {
            let error = result.expect_err(name);
            assert!(
                matches!(
                    error,
                    Error::DeviceMismatch {
                        name: "fake logits",
                        ..
                    }
                ),
                "{name}: {error}"
            );
        }
        let weights = Batch::new(&on_cpu).with_weights(&on_gpu);
        let error = loss
            .discriminator_loss_with(&weights, &Batch::new(&on_cpu))
            .expect_err(name);
        assert!(
            matches!(
                error,
                Error::DeviceMismatch {
                    name: "real weights",
                    ..
                }
            ),
            "{name}: {error}"
        );
    }
    Ok(())
}
