//! Gradient penalties against closed forms for linear and quadratic critics, in f64.

mod penalty_support;

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::penalty::{
    DraganConfig, PenaltyMode, Side, UniformNoise, WganGpConfig, ZeroCenteredConfig,
};
use gan_losses::Error;
use penalty_support::{assert_gradients_close, flat, tensor, var};

const F64: DType = DType::F64;

fn rows(samples: &Tensor) -> Vec<Vec<f64>> {
    samples.to_vec2::<f64>().expect("a rank-2 f64 tensor")
}

fn linear_critic(w: &Var) -> impl Fn(&Tensor) -> candle_core::Result<Tensor> + '_ {
    move |x: &Tensor| x.matmul(w.as_tensor())
}

/// D(x) = Σⱼ aⱼ xⱼ², so ∇ₓD = 2a∘x.
fn diagonal_quadratic(a: &Var) -> impl Fn(&Tensor) -> candle_core::Result<Tensor> + '_ {
    move |x: &Tensor| x.sqr()?.broadcast_mul(a.as_tensor())?.sum_keepdim(1)
}

#[test]
fn r1_linear_critic_closed_form() {
    let w = var(11, (5, 1), 1.0, F64);
    let real = tensor(12, (3, 5), 2.0, F64);
    let gamma = 3.0;
    let r1 = ZeroCenteredConfig::default()
        .with_gamma(gamma)
        .build()
        .unwrap();

    let output = r1.r1(linear_critic(&w), &real).unwrap();
    let w_values = flat(w.as_tensor());
    let norm_sq: f64 = w_values.iter().map(|v| v * v).sum();
    assert!((output.value - 0.5 * gamma * norm_sq).abs() < 1e-12);
    for norm in flat(&output.gradient_norms) {
        assert!((norm - norm_sq.sqrt()).abs() < 1e-12);
    }

    let gradient = output.term.backward().unwrap();
    let expected: Vec<f64> = w_values.iter().map(|v| gamma * v).collect();
    assert_gradients_close(
        &[flat(gradient.get(w.as_tensor()).unwrap())],
        &[expected],
        1e-12,
        "∇w R1",
    );
}

#[test]
fn r2_detaches_generator() {
    let w = var(13, (4, 1), 1.0, F64);
    let latent = var(14, (2, 4), 1.0, F64);
    let fake = (latent.as_tensor() * 2.0).unwrap();
    let r2 = ZeroCenteredConfig::default()
        .with_gamma(1.0)
        .build()
        .unwrap();

    let output = r2.r2(linear_critic(&w), &fake).unwrap();
    let gradients = output.term.backward().unwrap();
    assert!(gradients.get(latent.as_tensor()).is_none());
    assert!(gradients.get(w.as_tensor()).is_some());
}

#[test]
fn r1_diagonal_quadratic_closed_form() {
    let a = var(15, 4, 1.0, F64);
    let real = tensor(16, (3, 4), 1.5, F64);
    let gamma = 0.7;
    let r1 = ZeroCenteredConfig::default()
        .with_gamma(gamma)
        .build()
        .unwrap();
    let output = r1.r1(diagonal_quadratic(&a), &real).unwrap();

    // R1 = (γ/2) meanᵢ Σⱼ 4aⱼ²xᵢⱼ², ∂R1/∂aⱼ = 4γ aⱼ meanᵢ xᵢⱼ².
    let a_values = flat(a.as_tensor());
    let x = rows(&real);
    let batch = x.len() as f64;
    let mut value = 0.0;
    let mut expected_gradient = vec![0.0; a_values.len()];
    for row in &x {
        for (j, xj) in row.iter().enumerate() {
            value += 0.5 * gamma * 4.0 * a_values[j] * a_values[j] * xj * xj / batch;
            expected_gradient[j] += 4.0 * gamma * a_values[j] * xj * xj / batch;
        }
    }
    assert!((output.value - value).abs() < 1e-12 * value.max(1.0));

    let gradients = output.term.backward().unwrap();
    assert_gradients_close(
        &[flat(gradients.get(a.as_tensor()).unwrap())],
        &[expected_gradient],
        1e-12,
        "∇a R1",
    );
}

#[test]
fn r1_full_quadratic_closed_form() {
    // D(x) = ½ xᵀAx: ∇ₓD = Sx with S = (A + Aᵀ)/2, and
    // ∇A R1 = (γ/2) meanᵢ [(Sxᵢ)xᵢᵀ + xᵢ(Sxᵢ)ᵀ].
    let n = 3;
    let a = var(17, (n, n), 1.0, F64);
    let real = tensor(18, (4, n), 1.0, F64);
    let gamma = 2.0;
    let critic = |x: &Tensor| {
        let ax = x.matmul(&a.as_tensor().t()?)?;
        (x * ax)?.sum_keepdim(1)? * 0.5
    };
    let output = ZeroCenteredConfig::default()
        .with_gamma(gamma)
        .build()
        .unwrap()
        .r1(critic, &real)
        .unwrap();

    let a_rows = rows(a.as_tensor());
    let s: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| 0.5 * (a_rows[i][j] + a_rows[j][i]))
                .collect()
        })
        .collect();
    let x = rows(&real);
    let batch = x.len() as f64;
    let mut value = 0.0;
    let mut expected = vec![0.0; n * n];
    for row in &x {
        let sx: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| s[i][j] * row[j]).sum())
            .collect();
        value += 0.5 * gamma * sx.iter().map(|v| v * v).sum::<f64>() / batch;
        for i in 0..n {
            for j in 0..n {
                expected[i * n + j] += 0.5 * gamma * (sx[i] * row[j] + row[i] * sx[j]) / batch;
            }
        }
    }
    assert!((output.value - value).abs() < 1e-12 * value.max(1.0));

    let gradients = output.term.backward().unwrap();
    assert_gradients_close(
        &[flat(gradients.get(a.as_tensor()).unwrap())],
        &[expected],
        1e-12,
        "∇A R1",
    );
}

#[test]
fn wgan_gp_linear_critic_closed_form() {
    let w = var(19, (4, 1), 1.0, F64);
    let real = tensor(20, (3, 4), 1.0, F64);
    let fake = tensor(21, (3, 4), 1.0, F64);
    let w_values = flat(w.as_tensor());
    let norm = w_values.iter().map(|v| v * v).sum::<f64>().sqrt();

    for (target, side) in [
        (1.0, Side::TwoSided),
        (0.5 * norm, Side::OneSided),
        (2.0 * norm, Side::TwoSided),
        (2.0 * norm, Side::OneSided),
    ] {
        let lambda = 10.0;
        let epsilon = 1e-12;
        let gp = WganGpConfig::default()
            .with_target(target)
            .with_side(side)
            .with_epsilon(epsilon)
            .build()
            .unwrap();
        let output = gp
            .penalty(linear_critic(&w), &real, &fake, UniformNoise::Seeded(1))
            .unwrap();

        let n = (norm * norm + epsilon).sqrt();
        let deviation = match side {
            Side::TwoSided => n - target,
            Side::OneSided => (n - target).max(0.0),
        };
        let value = lambda * deviation * deviation;
        assert!(
            (output.value - value).abs() < 1e-10,
            "GP value at target {target}, {side:?}"
        );

        // ∇w GP = 2λ (n − t)/n · w, zero for the one-sided form below the target.
        let expected: Vec<f64> = w_values
            .iter()
            .map(|v| 2.0 * lambda * deviation / n * v)
            .collect();
        let gradients = output.term.backward().unwrap();
        assert_gradients_close(
            &[flat(gradients.get(w.as_tensor()).unwrap())],
            &[expected],
            1e-10,
            "∇w GP",
        );
    }
}

#[test]
fn wgan_gp_interpolates_with_given_alpha() {
    let a = var(22, 3, 1.0, F64);
    let real = tensor(23, (2, 3), 1.0, F64);
    let fake = tensor(24, (2, 3), 1.0, F64);
    let alpha = Tensor::new(&[0.25f64, 0.9], &Device::Cpu).unwrap();
    let gp = WganGpConfig::default().with_lambda(2.0).build().unwrap();
    let output = gp
        .penalty(
            diagonal_quadratic(&a),
            &real,
            &fake,
            UniformNoise::Given(&alpha),
        )
        .unwrap();

    // ‖∇ₓD(x̂ᵢ)‖ = ‖2a∘x̂ᵢ‖ with x̂ᵢ = αᵢrᵢ + (1 − αᵢ)fᵢ.
    let a_values = flat(a.as_tensor());
    let (r, f) = (rows(&real), rows(&fake));
    let mut value = 0.0;
    let mut norms = Vec::new();
    for (i, alpha_i) in [0.25, 0.9].into_iter().enumerate() {
        let norm_sq: f64 = (0..3)
            .map(|j| {
                let x = alpha_i * r[i][j] + (1.0 - alpha_i) * f[i][j];
                (2.0 * a_values[j] * x).powi(2)
            })
            .sum();
        norms.push(norm_sq.sqrt());
        value += 2.0 * ((norm_sq + 1e-12).sqrt() - 1.0).powi(2) / 2.0;
    }
    assert!((output.value - value).abs() < 1e-12);
    let found = flat(&output.gradient_norms);
    for (got, expected) in found.iter().zip(&norms) {
        assert!((got - expected).abs() < 1e-12, "norm {got} vs {expected}");
    }
}

#[test]
fn wgan_gp_seeded_alpha_is_deterministic() {
    let a = var(25, 3, 1.0, F64);
    let real = tensor(26, (4, 3), 1.0, F64);
    let fake = tensor(27, (4, 3), 1.0, F64);
    let gp = WganGpConfig::default().build().unwrap();
    let run = |seed| {
        gp.penalty(
            diagonal_quadratic(&a),
            &real,
            &fake,
            UniformNoise::Seeded(seed),
        )
        .unwrap()
        .value
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn wgan_gp_zero_gradient_row_stays_finite() {
    // The first sample sits at x = 0, where ∇ₓ Σ aⱼxⱼ² = 0.
    let a = var(28, 3, 1.0, F64);
    let real = Tensor::new(&[[0.0f64, 0.0, 0.0], [0.5, -1.0, 2.0]], &Device::Cpu).unwrap();
    let alpha = Tensor::new(&[1.0f64, 1.0], &Device::Cpu).unwrap();
    let modes = [
        PenaltyMode::Exact,
        PenaltyMode::FiniteDifference { step: 1e-3 },
    ];
    for mode in modes {
        let gp = WganGpConfig::default().with_mode(mode).build().unwrap();
        let output = gp
            .penalty(
                diagonal_quadratic(&a),
                &real,
                &real,
                UniformNoise::Given(&alpha),
            )
            .unwrap();
        assert!(output.value.is_finite(), "{mode:?} value");
        assert_eq!(flat(&output.gradient_norms)[0], 0.0);
        let gradient = flat(output.term.backward().unwrap().get(a.as_tensor()).unwrap());
        assert!(
            gradient.iter().all(|v| v.is_finite()),
            "{mode:?} gradient {gradient:?}"
        );
    }

    // Without ε the exact gradient of √s at s = 0 would be 0·∞ = NaN, so ε = 0 is rejected.
    let error = WganGpConfig::default()
        .with_epsilon(0.0)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("epsilon"), "{error}");
}

#[test]
fn dragan_perturbs_with_half_std() {
    let a = var(29, 3, 1.0, F64);
    let real = tensor(30, (2, 3), 1.0, F64);
    let noise = tensor(31, (2, 3), 0.5, F64).affine(1.0, 0.5).unwrap();
    let dragan = DraganConfig::default().with_lambda(3.0).build().unwrap();

    let x = flat(&real);
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let u = flat(&noise);
    let perturbed: Vec<f64> = x.iter().zip(&u).map(|(x, u)| x + 0.5 * std * u).collect();
    let found = flat(&dragan.perturb(&real, UniformNoise::Given(&noise)).unwrap());
    for (got, expected) in found.iter().zip(&perturbed) {
        assert!((got - expected).abs() < 1e-14);
    }

    let a_values = flat(a.as_tensor());
    let mut value = 0.0;
    for row in perturbed.chunks(3) {
        let norm_sq: f64 = row
            .iter()
            .zip(&a_values)
            .map(|(x, a)| (2.0 * a * x).powi(2))
            .sum();
        value += 3.0 * ((norm_sq + 1e-12).sqrt() - 1.0).powi(2) / 2.0;
    }
    let output = dragan
        .penalty(diagonal_quadratic(&a), &real, UniformNoise::Given(&noise))
        .unwrap();
    assert!((output.value - value).abs() < 1e-12);
}

#[test]
fn penalties_reject_bad_input() {
    let w = var(32, (3, 1), 1.0, F64);
    let real = tensor(33, (2, 3), 1.0, F64);
    let gp = WganGpConfig::default().build().unwrap();

    let fake = tensor(34, (3, 3), 1.0, F64);
    let result = gp.penalty(linear_critic(&w), &real, &fake, UniformNoise::Seeded(0));
    assert!(matches!(result, Err(Error::SampleShapeMismatch { .. })));

    let alpha = Tensor::new(&[0.5f64, 1.5], &Device::Cpu).unwrap();
    let result = gp.penalty(linear_critic(&w), &real, &real, UniformNoise::Given(&alpha));
    assert!(matches!(result, Err(Error::InvalidNoise { index: 1, .. })));

    let alpha = Tensor::new(&[0.5f64, 0.5, 0.5], &Device::Cpu).unwrap();
    let result = gp.penalty(linear_critic(&w), &real, &real, UniformNoise::Given(&alpha));
    assert!(matches!(result, Err(Error::SampleShapeMismatch { .. })));

    let empty = Tensor::zeros((0, 3), F64, &Device::Cpu).unwrap();
    let r1 = ZeroCenteredConfig::default().build().unwrap();
    let result = r1.r1(linear_critic(&w), &empty);
    assert!(matches!(result, Err(Error::EmptyBatch { .. })));

    let summed = |x: &Tensor| x.sum_all();
    let result = r1.r1(summed, &real);
    assert!(matches!(
        result,
        Err(Error::DiscriminatorOutputShape { batch: 2, .. })
    ));

    let integers = Tensor::new(&[[1u32, 2, 3]], &Device::Cpu).unwrap();
    let result = r1.r1(linear_critic(&w), &integers);
    assert!(matches!(result, Err(Error::UnsupportedDtype { .. })));
}

#[test]
fn configs_reject_bad_options() {
    let invalid = |result: Result<(), Error>, option: &str| match result {
        Err(Error::InvalidOption { option: found, .. }) => assert_eq!(found, option),
        other => panic!("expected InvalidOption for {option}, got {other:?}"),
    };
    invalid(
        ZeroCenteredConfig::default()
            .with_gamma(-1.0)
            .build()
            .map(drop),
        "gamma",
    );
    invalid(
        ZeroCenteredConfig::default()
            .with_mode(PenaltyMode::FiniteDifference { step: 0.0 })
            .build()
            .map(drop),
        "step",
    );
    invalid(
        WganGpConfig::default()
            .with_lambda(f64::NAN)
            .build()
            .map(drop),
        "lambda",
    );
    invalid(
        WganGpConfig::default().with_target(-1.0).build().map(drop),
        "target",
    );
    invalid(
        WganGpConfig::default()
            .with_epsilon(-1e-3)
            .build()
            .map(drop),
        "epsilon",
    );
    invalid(
        DraganConfig::default()
            .with_perturbation_scale(f64::INFINITY)
            .build()
            .map(drop),
        "perturbation_scale",
    );
}

#[test]
fn half_precision_penalties_computed_in_f32() {
    let w64 = [[0.5f64], [-1.25], [2.0]];
    let real64 = tensor(35, (4, 3), 1.0, F64);
    let norm_sq: f64 = w64.iter().map(|r| r[0] * r[0]).sum();
    let modes = [
        PenaltyMode::Exact,
        PenaltyMode::FiniteDifference { step: 0.1 },
    ];
    for dtype in [DType::F16, DType::BF16, DType::F32] {
        for mode in modes {
            let w64 = Tensor::new(&w64, &Device::Cpu).unwrap();
            let w = Var::from_tensor(&w64.to_dtype(dtype).unwrap()).unwrap();
            let real = real64.to_dtype(dtype).unwrap();
            let r1 = ZeroCenteredConfig::default()
                .with_gamma(2.0)
                .with_mode(mode)
                .build()
                .unwrap();
            let output = r1.r1(linear_critic(&w), &real).unwrap();
            assert_eq!(output.term.dtype(), dtype);
            assert_eq!(output.gradient_norms.dtype(), DType::F32);
            // w is exact in every dtype here, so only the f32 accumulation rounds.
            let what = format!("{dtype:?} {mode:?}");
            assert!(
                (output.value - norm_sq).abs() < 1e-5,
                "{what}: {}",
                output.value
            );

            let gradient = flat(output.term.backward().unwrap().get(w.as_tensor()).unwrap());
            let expected: Vec<f64> = flat(&w64).iter().map(|v| 2.0 * v).collect();
            assert_gradients_close(&[gradient], &[expected], 1e-2, &what);
        }
    }
}

#[test]
fn batch_coupling_breaks_per_sample_norms() {
    // D(xᵢ) = (xᵢ − mean over the batch)·w, as batch norm's centring does in training mode:
    // ∂D(xᵢ)/∂xᵢ = (1 − 1/B)w, but the row of ∇ₓ Σᵢ D(xᵢ) is w − w = 0.
    let w = var(36, (3, 1), 1.0, F64);
    let real = tensor(37, (4, 3), 1.0, F64);
    let centred = |x: &Tensor| x.broadcast_sub(&x.mean_keepdim(0)?)?.matmul(w.as_tensor());
    let r1 = ZeroCenteredConfig::default().build().unwrap();
    let output = r1.r1(centred, &real).unwrap();

    let w_norm = flat(w.as_tensor())
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    let own_sample_norm = (1.0 - 1.0 / 4.0) * w_norm;
    for norm in flat(&output.gradient_norms) {
        assert!(norm < 1e-12, "norm {norm}");
        assert!((norm - own_sample_norm).abs() > 0.1);
    }
}

#[test]
fn wgan_gp_rejects_mixed_dtypes() {
    let w = var(38, (3, 1), 1.0, F64);
    let real = tensor(39, (2, 3), 1.0, F64);
    let fake = real.to_dtype(DType::F32).unwrap();
    let gp = WganGpConfig::default().build().unwrap();
    let result = gp.penalty(linear_critic(&w), &real, &fake, UniformNoise::Seeded(0));
    assert!(matches!(result, Err(Error::DtypeMismatch { .. })));
}
