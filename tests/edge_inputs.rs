//! Extreme, non-finite, strided, empty and mixed-size inputs, checked against f64 references.

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::penalty::{UniformNoise, WganGpConfig};
use gan_losses::{
    Batch, BceConfig, BceLoss, DiscriminatorLoss, Error, FnLoss, GeneratorLoss, HingeLoss, Input,
    Kernel, LossConfig, RaSganLoss, RsganLoss, SumLoss,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];

fn tensor(values: &[f64], dtype: DType) -> candle_core::Result<Tensor> {
    Tensor::new(values, &Device::Cpu)?.to_dtype(dtype)
}

fn scalar(t: &Tensor) -> candle_core::Result<f64> {
    t.to_dtype(DType::F64)?.to_scalar::<f64>()
}

fn vec_of(t: &Tensor) -> candle_core::Result<Vec<f64>> {
    t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
}

/// softplus in f64, the reference for every BCE value.
fn softplus(x: f64) -> f64 {
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Relative tolerance of one dtype's rounding.
fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F16 => 2e-3,
        DType::BF16 => 1e-2,
        DType::F32 => 1e-6,
        _ => 1e-12,
    }
}

fn close(actual: f64, expected: f64, relative: f64) -> bool {
    if expected.is_infinite() || actual.is_infinite() {
        return actual == expected;
    }
    (actual - expected).abs() <= relative * expected.abs().max(1e-6)
}

/// Absolute error allowed near zero, where ln(1 + e^(−|x|)) loses its digits in the dtype.
fn floor(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-15,
        DType::F32 => 1e-7,
        _ => 1e-3,
    }
}

/// Value and gradient of the BCE discriminator loss for one real and one fake logit.
fn d_value_and_gradients(
    loss: &BceLoss,
    real: f64,
    fake: f64,
    dtype: DType,
) -> Result<(f64, f64, f64), Box<dyn std::error::Error>> {
    let r = Var::from_tensor(&tensor(&[real], dtype)?)?;
    let f = Var::from_tensor(&tensor(&[fake], dtype)?)?;
    let value = loss.discriminator_loss(r.as_tensor(), f.as_tensor())?;
    assert_eq!(value.dtype(), dtype);
    let grads = value.backward()?;
    let dr = grads.get(r.as_tensor()).ok_or("no real gradient")?;
    let df = grads.get(f.as_tensor()).ok_or("no fake gradient")?;
    Ok((scalar(&value)?, vec_of(dr)?[0], vec_of(df)?[0]))
}

#[test]
fn bce_extreme_logits_every_dtype() -> TestResult {
    let loss = BceLoss::new();
    let magnitudes = [20.0, 100.0, 1e4, f64::INFINITY];
    for dtype in FLOATS {
        for m in magnitudes {
            for (real, fake) in [(m, -m), (-m, m), (m, m), (-m, -m)] {
                // The tensor contains the value rounded to the dtype.
                let r = vec_of(&tensor(&[real], dtype)?)?[0];
                let f = vec_of(&tensor(&[fake], dtype)?)?[0];
                let expected = softplus(-r) + softplus(f);
                let (value, dr, df) = d_value_and_gradients(&loss, real, fake, dtype)?;
                assert!(
                    close(value, expected, tolerance(dtype))
                        || (value - expected).abs() <= floor(dtype),
                    "{dtype:?} r={real} f={fake}: value {value}, expected {expected}"
                );
                let expected_dr = sigmoid(r) - 1.0;
                let expected_df = sigmoid(f);
                assert!(
                    (dr - expected_dr).abs() <= tolerance(dtype).max(1e-7),
                    "{dtype:?} r={real}: gradient {dr}, expected {expected_dr}"
                );
                assert!(
                    (df - expected_df).abs() <= tolerance(dtype).max(1e-7),
                    "{dtype:?} f={fake}: gradient {df}, expected {expected_df}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn bce_nan_logit_propagates() -> TestResult {
    let loss = BceLoss::new();
    for dtype in FLOATS {
        let (value, dr, _) = d_value_and_gradients(&loss, f64::NAN, 0.0, dtype)?;
        assert!(value.is_nan(), "{dtype:?}: value {value}");
        assert!(dr.is_nan(), "{dtype:?}: gradient {dr}");
    }
    Ok(())
}

#[test]
fn bce_generator_extreme_logits() -> TestResult {
    let loss = BceConfig::default().with_label_smoothing(0.2).build()?;
    for dtype in FLOATS {
        for f in [-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4, f64::INFINITY] {
            let x = Var::from_tensor(&tensor(&[f], dtype)?)?;
            let value = loss.generator_loss(x.as_tensor())?;
            let grad = vec_of(value.backward()?.get(x.as_tensor()).ok_or("no gradient")?)?[0];
            let expected = softplus(-f);
            let actual = scalar(&value)?;
            assert!(
                close(actual, expected, tolerance(dtype))
                    || (actual - expected).abs() <= floor(dtype),
                "{dtype:?} f={f}: {} vs {expected}",
                scalar(&value)?
            );
            let expected_grad = sigmoid(f) - 1.0;
            assert!(
                (grad - expected_grad).abs() <= tolerance(dtype).max(1e-7),
                "{dtype:?} f={f}: gradient {grad} vs {expected_grad}"
            );
        }
    }
    Ok(())
}

#[test]
fn weights_of_rank_one_rejected_for_column() -> TestResult {
    let logits = Tensor::zeros((4, 1), DType::F32, &Device::Cpu)?;
    let weights = Tensor::ones(4, DType::F32, &Device::Cpu)?;
    let err = BceLoss::new()
        .discriminator_loss_with(
            &Batch::new(&logits).with_weights(&weights),
            &Batch::new(&logits),
        )
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("[4]"), "{message}");
    assert!(message.contains("[4, 1]"), "{message}");
    Ok(())
}

#[test]
fn patchgan_mask_matches_reference() -> TestResult {
    let (b, h, w) = (2, 3, 4);
    let n = b * h * w;
    let real: Vec<f64> = (0..n).map(|i| (i as f64 - 11.0) * 0.7).collect();
    let fake: Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).sin() * 5.0).collect();
    let mask: Vec<f64> = (0..n).map(|i| ((i * 7) % 3 != 0) as u8 as f64).collect();
    let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64 * 0.25).collect();

    let shape = (b, 1, h, w);
    let r = Tensor::new(real.as_slice(), &Device::Cpu)?.reshape(shape)?;
    let f = Tensor::new(fake.as_slice(), &Device::Cpu)?.reshape(shape)?;
    let m = Tensor::new(mask.as_slice(), &Device::Cpu)?.reshape(shape)?;
    let wt = Tensor::new(weights.as_slice(), &Device::Cpu)?.reshape(shape)?;
    let value = BceLoss::new().discriminator_loss_with(
        &Batch::new(&r).with_mask(&m).with_weights(&wt),
        &Batch::new(&f).with_mask(&m),
    )?;

    let included = mask.iter().filter(|v| **v != 0.0).count() as f64;
    let real_sum: f64 = (0..n)
        .filter(|i| mask[*i] != 0.0)
        .map(|i| weights[i] * softplus(-real[i]))
        .sum();
    let fake_sum: f64 = (0..n)
        .filter(|i| mask[*i] != 0.0)
        .map(|i| softplus(fake[i]))
        .sum();
    let expected = real_sum / included + fake_sum / included;
    assert!(close(scalar(&value)?, expected, 1e-12));
    Ok(())
}

#[test]
fn mask_excludes_nan_and_infinite_logits() -> TestResult {
    let r = Var::new(&[1.0f32, f32::NAN, f32::NEG_INFINITY], &Device::Cpu)?;
    let f = Tensor::new(&[0.0f32], &Device::Cpu)?;
    let mask = Tensor::new(&[1u8, 0, 0], &Device::Cpu)?;
    let value = BceLoss::new()
        .discriminator_loss_with(&Batch::new(r.as_tensor()).with_mask(&mask), &Batch::new(&f))?;
    let expected = softplus(-1.0) + softplus(0.0);
    assert!(close(scalar(&value)?, expected, 1e-6));
    let grad = vec_of(value.backward()?.get(r.as_tensor()).ok_or("no gradient")?)?;
    assert!((grad[0] - (sigmoid(1.0) - 1.0)).abs() < 1e-6);
    assert_eq!(grad[1], 0.0);
    assert_eq!(grad[2], 0.0);
    Ok(())
}

#[test]
fn mixed_batch_sizes_average_separately() -> TestResult {
    let real = [0.5, -1.0, 2.0];
    let fake = [0.1, -0.3, 1.2, -2.2, 0.0];
    let value = BceLoss::new().discriminator_loss(
        &Tensor::new(&real, &Device::Cpu)?,
        &Tensor::new(&fake, &Device::Cpu)?,
    )?;
    let expected = real.iter().map(|x| softplus(-x)).sum::<f64>() / 3.0
        + fake.iter().map(|x| softplus(*x)).sum::<f64>() / 5.0;
    assert!(close(scalar(&value)?, expected, 1e-12));
    Ok(())
}

#[test]
fn hinge_generator_has_no_relu() -> TestResult {
    let fake = [5.0, -3.0, 0.5];
    let x = Var::new(&fake, &Device::Cpu)?;
    let value = HingeLoss::new().generator_loss(x.as_tensor())?;
    assert!(close(scalar(&value)?, -2.5 / 3.0, 1e-12));
    let grad = vec_of(value.backward()?.get(x.as_tensor()).ok_or("no gradient")?)?;
    for g in grad {
        assert!((g + 1.0 / 3.0).abs() < 1e-12);
    }
    Ok(())
}

#[test]
fn probability_zero_and_one_finite() -> TestResult {
    let loss = BceConfig::default()
        .with_input(Input::Probabilities)
        .build()?;
    for dtype in [DType::F32, DType::F64] {
        let r = Var::from_tensor(&tensor(&[0.0, 1.0], dtype)?)?;
        let f = Var::from_tensor(&tensor(&[1.0, 0.0], dtype)?)?;
        let value = loss.discriminator_loss(r.as_tensor(), f.as_tensor())?;
        // Real p = 0 and fake p = 1 each cost 100 (logs clamped at −100), so each batch mean is 50.
        assert!(close(scalar(&value)?, 100.0, tolerance(dtype)));
        let grads = value.backward()?;
        let dr = vec_of(grads.get(r.as_tensor()).ok_or("no gradient")?)?;
        // (p − 1)/max(p(1 − p), 1e-12) / 2 at p = 0.
        assert!(close(dr[0], -0.5e12, 1e-6), "{dr:?}");
        assert!(dr.iter().all(|g| g.is_finite()), "{dr:?}");
    }
    Ok(())
}

#[test]
fn probability_outside_unit_interval_named() -> TestResult {
    let loss = BceConfig::default()
        .with_input(Input::Probabilities)
        .build()?;
    let r = Tensor::new(&[0.5f32, 1.5], &Device::Cpu)?;
    let f = Tensor::new(&[0.5f32], &Device::Cpu)?;
    let err = loss.discriminator_loss(&r, &f).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("1.5"), "{message}");
    assert!(message.contains("index 1"), "{message}");
    Ok(())
}

#[test]
fn empty_and_integer_inputs_are_errors() -> TestResult {
    let ok = Tensor::zeros(2, DType::F32, &Device::Cpu)?;
    let empty = Tensor::zeros((0, 1), DType::F32, &Device::Cpu)?;
    let err = BceLoss::new().discriminator_loss(&empty, &ok).unwrap_err();
    assert!(matches!(err, Error::EmptyBatch { .. }), "{err}");
    assert!(err.to_string().contains("[0, 1]"), "{err}");
    let err = BceLoss::new().generator_loss(&empty).unwrap_err();
    assert!(matches!(err, Error::EmptyBatch { .. }), "{err}");

    for int in [DType::U8, DType::U32, DType::I64] {
        let logits = Tensor::zeros(2, int, &Device::Cpu)?;
        let err = BceLoss::new().discriminator_loss(&logits, &ok).unwrap_err();
        assert!(matches!(err, Error::UnsupportedDtype { .. }), "{err}");
        assert!(err.to_string().contains("to_dtype"), "{err}");
        let err = BceLoss::new()
            .discriminator_loss_with(&Batch::new(&ok).with_weights(&logits), &Batch::new(&ok))
            .unwrap_err();
        assert!(matches!(err, Error::UnsupportedDtype { .. }), "{err}");
    }
    Ok(())
}

#[test]
fn strided_inputs_match_contiguous() -> TestResult {
    let base = Tensor::new(&[[0.5f32, -1.0, 3.0], [2.0, -0.25, 7.0]], &Device::Cpu)?;
    let weights = Tensor::new(&[[1.0f32, 2.0, 0.5], [0.0, 3.0, 1.5]], &Device::Cpu)?;
    let transposed = base.t()?;
    let transposed_weights = weights.t()?;
    assert!(!transposed.is_contiguous());
    let narrowed = base.narrow(1, 1, 2)?;
    let loss = BceLoss::new();
    let strided = loss.discriminator_loss_with(
        &Batch::new(&transposed).with_weights(&transposed_weights),
        &Batch::new(&narrowed),
    )?;
    let dense = loss.discriminator_loss_with(
        &Batch::new(&transposed.contiguous()?).with_weights(&transposed_weights.contiguous()?),
        &Batch::new(&narrowed.contiguous()?),
    )?;
    assert_eq!(scalar(&strided)?, scalar(&dense)?);
    Ok(())
}

#[test]
fn rank_zero_logits() -> TestResult {
    let r = Tensor::new(2.0f64, &Device::Cpu)?;
    let f = Tensor::new(-1.0f64, &Device::Cpu)?;
    let w = Tensor::new(3.0f64, &Device::Cpu)?;
    let value = BceLoss::new()
        .discriminator_loss_with(&Batch::new(&r).with_weights(&w), &Batch::new(&f))?;
    assert!(close(
        scalar(&value)?,
        3.0 * softplus(-2.0) + softplus(-1.0),
        1e-12
    ));
    Ok(())
}

#[test]
fn invalid_weights_named_with_index() -> TestResult {
    let logits = Tensor::zeros(4, DType::F32, &Device::Cpu)?;
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1.0] {
        let weights = Tensor::new(&[1.0f32, 1.0, bad, 1.0], &Device::Cpu)?;
        let err = BceLoss::new()
            .discriminator_loss_with(
                &Batch::new(&logits),
                &Batch::new(&logits).with_weights(&weights),
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidWeight { index: 2, .. }),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains("fake weights"), "{err}");
    }
    Ok(())
}

#[test]
fn rasgan_unequal_batches_match_reference() -> TestResult {
    let real = [1.0, -0.5, 2.0];
    let fake = [0.3, -1.2, 0.0, 4.0, -2.0];
    let value = RaSganLoss::new().discriminator_loss(
        &Tensor::new(&real, &Device::Cpu)?,
        &Tensor::new(&fake, &Device::Cpu)?,
    )?;
    let mean_r = real.iter().sum::<f64>() / 3.0;
    let mean_f = fake.iter().sum::<f64>() / 5.0;
    let expected = real.iter().map(|r| softplus(-(r - mean_f))).sum::<f64>() / 3.0
        + fake.iter().map(|f| softplus(f - mean_r)).sum::<f64>() / 5.0;
    assert!(close(scalar(&value)?, expected, 1e-12));
    Ok(())
}

#[test]
fn rsgan_unequal_batches_rejected() -> TestResult {
    let r = Tensor::zeros(3, DType::F32, &Device::Cpu)?;
    let f = Tensor::zeros(5, DType::F32, &Device::Cpu)?;
    let err = RsganLoss::new().discriminator_loss(&r, &f).unwrap_err();
    assert!(matches!(err, Error::UnpairedBatches { .. }), "{err}");
    let err = RsganLoss::new()
        .generator_loss_with(Some(&Batch::new(&r)), &Batch::new(&f))
        .unwrap_err();
    assert!(matches!(err, Error::UnpairedBatches { .. }), "{err}");
    let err = RsganLoss::new().generator_loss(&f).unwrap_err();
    assert!(matches!(err, Error::MissingRealLogits { .. }), "{err}");
    Ok(())
}

#[test]
fn loss_names_with_odd_case_and_spaces() -> TestResult {
    for (name, canonical) in [
        (" Ra_Hinge ", "ra-hinge"),
        ("RA HINGE", "ra-hinge"),
        ("Non Saturating", "bce"),
        ("\tLSGAN\n", "lsgan"),
        ("Weighted_BCE", "weighted-bce"),
        ("MiniMax", "saturating"),
    ] {
        let config: LossConfig = name.parse()?;
        assert_eq!(config.to_string(), canonical, "{name:?}");
        config.build()?;
    }
    for name in ["", "ra--hinge", "wgan-gp", "hinge2"] {
        let err = name.parse::<LossConfig>().unwrap_err();
        assert!(matches!(err, Error::UnknownLoss { .. }), "{name:?}: {err}");
        assert!(err.to_string().contains("ra-hinge"), "{err}");
    }
    Ok(())
}

#[test]
fn fn_loss_rejects_weights_and_terms() -> TestResult {
    let loss = FnLoss::new(
        |r: &Tensor, f: &Tensor| Ok((f.mean_all()? - r.mean_all()?)?),
        |f: &Tensor| Ok(f.mean_all()?.neg()?),
    );
    let x = Tensor::new(&[1.0f32, 2.0], &Device::Cpu)?;
    let err = loss
        .discriminator_loss_with(&Batch::new(&x).with_weights(&x), &Batch::new(&x))
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let err = loss
        .discriminator_terms(&Batch::new(&x), &Batch::new(&x))
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let empty = Tensor::zeros(0, DType::F32, &Device::Cpu)?;
    let err = loss.generator_loss(&empty).unwrap_err();
    assert!(matches!(err, Error::EmptyBatch { .. }), "{err}");
    Ok(())
}

#[test]
fn sum_loss_rejects_bad_weights() -> TestResult {
    for bad in [f64::NAN, f64::INFINITY, -0.5] {
        let err = SumLoss::new(bad, BceLoss::new()).unwrap_err();
        assert!(matches!(err, Error::InvalidOption { .. }), "{err}");
        let err = SumLoss::new(1.0, BceLoss::new())?
            .with(bad, HingeLoss::new())
            .unwrap_err();
        assert!(matches!(err, Error::InvalidOption { .. }), "{err}");
    }
    Ok(())
}

#[test]
fn wgan_gp_zero_gradient_finite() -> TestResult {
    // A critic whose input gradient is exactly zero at every sample: every ReLU is off.
    let weight = Var::new(&[[1.0f32], [1.0]], &Device::Cpu)?;
    let critic = |x: &Tensor| x.matmul(weight.as_tensor())?.relu();
    let real = Tensor::new(&[[-1.0f32, -2.0], [-3.0, -1.0]], &Device::Cpu)?;
    let fake = Tensor::new(&[[-2.0f32, -1.0], [-1.0, -4.0]], &Device::Cpu)?;
    let penalty = WganGpConfig::default().build()?;
    let output = penalty.penalty(critic, &real, &fake, UniformNoise::Seeded(7))?;
    // λ·(√ε − 1)² with λ = 10 and ε = 1e-12.
    let expected = 10.0 * (1e-6f64 - 1.0).powi(2);
    assert!(
        close(output.value, expected, 1e-6),
        "value {}",
        output.value
    );
    assert!(vec_of(&output.gradient_norms)?.iter().all(|n| *n == 0.0));
    let grads = output.term.backward()?;
    let g = vec_of(grads.get(weight.as_tensor()).ok_or("no weight gradient")?)?;
    assert!(g.iter().all(|v| *v == 0.0), "weight gradient {g:?}");
    Ok(())
}

#[test]
fn masked_probability_outside_range_accepted() -> TestResult {
    let loss = BceConfig::default()
        .with_input(Input::Probabilities)
        .build()?;
    let real = tensor(&[0.9, -1.0], DType::F32)?;
    let mask = Tensor::new(&[1u8, 0], &Device::Cpu)?;
    let fake = tensor(&[0.2], DType::F32)?;
    let value =
        loss.discriminator_loss_with(&Batch::new(&real).with_mask(&mask), &Batch::new(&fake))?;
    let expected = -(0.9f64.ln()) - (0.8f64.ln());
    assert!(
        close(scalar(&value)?, expected, 1e-6),
        "{}",
        scalar(&value)?
    );
    Ok(())
}

#[test]
fn fn_loss_rejects_non_scalar_value() -> TestResult {
    let loss = FnLoss::new(|real, _fake| Ok(real.clone()), |fake| Ok(fake.mean_all()?));
    let real = tensor(&[1.0, 2.0], DType::F32)?;
    let fake = tensor(&[0.5, 0.5], DType::F32)?;
    let error = loss.discriminator_loss(&real, &fake).unwrap_err();
    assert!(matches!(error, Error::NotScalar { .. }), "{error}");
    assert!(error.to_string().contains("[2]"), "{error}");
    Ok(())
}

#[test]
fn sum_loss_zero_weight_skips_infinite_part() -> TestResult {
    let sum = SumLoss::new(1.0, HingeLoss::new())?.with(0.0, BceLoss::new())?;
    let real = tensor(&[f64::NEG_INFINITY], DType::F32)?;
    let fake = tensor(&[-2.0], DType::F32)?;
    let value = scalar(&sum.discriminator_loss(&real, &fake)?)?;
    // The hinge part alone: relu(1 + inf) is +inf on the real side, so the sum is +inf, not NaN.
    assert_eq!(value, f64::INFINITY);

    let finite_real = tensor(&[0.5], DType::F32)?;
    let all_zero = SumLoss::new(0.0, BceLoss::new())?;
    assert_eq!(
        scalar(&all_zero.discriminator_loss(&finite_real, &fake)?)?,
        0.0
    );
    Ok(())
}

#[test]
fn zero_weight_drops_infinite_term() -> TestResult {
    for kernel in [Kernel::Fused, Kernel::Plain] {
        let loss = BceConfig::default().with_kernel(kernel).build()?;
        for bad in [f64::NEG_INFINITY, f64::NAN] {
            let real = Var::from_tensor(&tensor(&[bad, 1.0], DType::F32)?)?;
            let weights = tensor(&[0.0, 2.0], DType::F32)?;
            let fake = tensor(&[-1.0], DType::F32)?;
            let value = loss.discriminator_loss_with(
                &Batch::new(real.as_tensor()).with_weights(&weights),
                &Batch::new(&fake),
            )?;
            // The divisor stays the element count, 2.
            let expected = 2.0 * softplus(-1.0) / 2.0 + softplus(-1.0);
            assert!(
                close(scalar(&value)?, expected, 1e-6),
                "{kernel:?} {bad}: {}",
                scalar(&value)?
            );

            let gradient = vec_of(
                value
                    .backward()?
                    .get(real.as_tensor())
                    .ok_or("no gradient")?,
            )?;
            assert_eq!(gradient[0], 0.0, "{kernel:?} {bad}");
            let expected_gradient = 2.0 * (sigmoid(1.0) - 1.0) / 2.0;
            assert!(
                close(gradient[1], expected_gradient, 1e-6),
                "{kernel:?} {gradient:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn zero_group_weight_drops_infinite_batch() -> TestResult {
    for kernel in [Kernel::Fused, Kernel::Plain] {
        let config = BceConfig::default()
            .with_group_weights(0.0, 1.0)
            .with_kernel(kernel);
        let loss = gan_losses::WeightedBceLoss::from_config(config)?;
        let real = tensor(&[f64::NEG_INFINITY], DType::F32)?;
        let fake = tensor(&[-1.0], DType::F32)?;
        let value = scalar(&loss.discriminator_loss(&real, &fake)?)?;
        assert!(close(value, softplus(-1.0), 1e-6), "{kernel:?}: {value}");
    }
    Ok(())
}
