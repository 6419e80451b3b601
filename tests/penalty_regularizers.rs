//! LeCam regularisation and lazy regularisation against f64 references.

mod penalty_support;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::ParamsAdamW;
use gan_losses::penalty::{
    LazyRegularization, LeCamConfig, LeCamForm, LeCamState, PenaltyOutput, ZeroCenteredConfig,
};
use gan_losses::Error;
use penalty_support::{assert_gradients_close, flat, tensor};

/// R and its gradients with respect to the real and fake outputs, for given averages.
fn lecam_reference(
    real: &[f64],
    fake: &[f64],
    real_average: f64,
    fake_average: f64,
    form: LeCamForm,
) -> (f64, Vec<f64>, Vec<f64>) {
    let clip = |v: f64| match form {
        LeCamForm::Hinged => v.max(0.0),
        LeCamForm::Squared => v,
    };
    let (n_real, n_fake) = (real.len() as f64, fake.len() as f64);
    let real_gaps: Vec<f64> = real.iter().map(|d| clip(d - fake_average)).collect();
    let fake_gaps: Vec<f64> = fake.iter().map(|d| clip(real_average - d)).collect();
    let value = real_gaps.iter().map(|g| g * g).sum::<f64>() / n_real
        + fake_gaps.iter().map(|g| g * g).sum::<f64>() / n_fake;
    let real_gradient = real_gaps.iter().map(|g| 2.0 * g / n_real).collect();
    let fake_gradient = fake_gaps.iter().map(|g| -2.0 * g / n_fake).collect();
    (value, real_gradient, fake_gradient)
}

#[test]
fn lecam_matches_reference_over_steps() {
    for form in [LeCamForm::Hinged, LeCamForm::Squared] {
        let decay = 0.9;
        let weight = 0.3;
        let mut lecam = LeCamConfig::default()
            .with_decay(decay)
            .with_weight(weight)
            .with_form(form)
            .build()
            .unwrap();
        let (mut real_average, mut fake_average) = (None::<f64>, None::<f64>);

        for step in 0..3u64 {
            let real = Var::from_tensor(&tensor(100 + step, (6, 1), 2.0, DType::F64)).unwrap();
            let fake = Var::from_tensor(&tensor(200 + step, (5, 1), 2.0, DType::F64)).unwrap();
            let (r, f) = (flat(real.as_tensor()), flat(fake.as_tensor()));
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let update = |average: Option<f64>, m: f64| match average {
                Some(a) => decay * a + (1.0 - decay) * m,
                None => m,
            };
            real_average = Some(update(real_average, mean(&r)));
            fake_average = Some(update(fake_average, mean(&f)));

            let output = lecam
                .regularize(real.as_tensor(), fake.as_tensor())
                .unwrap();
            let state = lecam.state();
            assert!((state.real_average.unwrap() - real_average.unwrap()).abs() < 1e-14);
            assert!((state.fake_average.unwrap() - fake_average.unwrap()).abs() < 1e-14);

            let (value, real_gradient, fake_gradient) =
                lecam_reference(&r, &f, real_average.unwrap(), fake_average.unwrap(), form);
            assert!(
                (output.value - weight * value).abs() < 1e-12,
                "{form:?} step {step}: {} vs {}",
                output.value,
                weight * value
            );

            let gradients = output.term.backward().unwrap();
            let scaled = |g: Vec<f64>| g.into_iter().map(|v| weight * v).collect::<Vec<_>>();
            assert_gradients_close(
                &[
                    flat(gradients.get(real.as_tensor()).unwrap()),
                    flat(gradients.get(fake.as_tensor()).unwrap()),
                ],
                &[scaled(real_gradient), scaled(fake_gradient)],
                1e-12,
                "LeCam gradient",
            );
        }
    }
}

#[test]
fn lecam_state_restores() {
    let real = tensor(300, 4, 1.0, DType::F64);
    let fake = tensor(301, 4, 1.0, DType::F64);
    let mut first = LeCamConfig::default().build().unwrap();
    first.regularize(&real, &fake).unwrap();

    let mut second = LeCamConfig::default().build().unwrap();
    second.set_state(first.state()).unwrap();
    let a = first.regularize(&fake, &real).unwrap().value;
    let b = second.regularize(&fake, &real).unwrap().value;
    assert_eq!(a, b);

    let bad = LeCamState {
        real_average: Some(f64::NAN),
        fake_average: None,
    };
    assert!(matches!(
        second.set_state(bad),
        Err(Error::InvalidOption { .. })
    ));
}

#[cfg(feature = "serde")]
#[test]
fn lecam_state_serde_round_trip() {
    let mut lecam = LeCamConfig::default().build().unwrap();
    let real = tensor(302, 4, 1.0, DType::F64);
    let fake = tensor(303, 4, 1.0, DType::F64);
    lecam.regularize(&real, &fake).unwrap();
    let json = serde_json::to_string(&lecam.state()).unwrap();
    let restored: LeCamState = serde_json::from_str(&json).unwrap();
    // serde_json's default float parser may change the last bit of an f64.
    let close = |a: Option<f64>, b: Option<f64>| (a.unwrap() - b.unwrap()).abs() < 1e-15;
    assert!(close(restored.real_average, lecam.state().real_average));
    assert!(close(restored.fake_average, lecam.state().fake_average));
}

#[test]
fn lecam_rejects_bad_options_and_input() {
    assert!(LeCamConfig::default().with_decay(1.0).build().is_err());
    assert!(LeCamConfig::default().with_weight(-1.0).build().is_err());
    let mut lecam = LeCamConfig::default().build().unwrap();
    let empty = Tensor::zeros(0, DType::F32, &Device::Cpu).unwrap();
    let fake = Tensor::ones(2, DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        lecam.regularize(&empty, &fake),
        Err(Error::EmptyBatch { .. })
    ));
    let infinite = Tensor::new(&[f32::INFINITY, 0.0], &Device::Cpu).unwrap();
    assert!(matches!(
        lecam.regularize(&infinite, &fake),
        Err(Error::InvalidOption { .. })
    ));
    assert_eq!(lecam.state(), LeCamState::default());
}

#[test]
fn lazy_scales_term_every_interval() {
    let lazy = LazyRegularization::new(4).unwrap();
    let w = Var::new(&[[3.0f64], [4.0]], &Device::Cpu).unwrap();
    let real = tensor(400, (3, 2), 1.0, DType::F64);
    let r1 = ZeroCenteredConfig::default()
        .with_gamma(1.0)
        .build()
        .unwrap();
    let penalty =
        || -> gan_losses::Result<PenaltyOutput> { r1.r1(|x| x.matmul(w.as_tensor()), &real) };

    let mut calls = 0;
    for step in 0..9u64 {
        let output = lazy
            .apply(step, || {
                calls += 1;
                penalty()
            })
            .unwrap();
        assert_eq!(output.is_some(), step % 4 == 0, "step {step}");
        if let Some(output) = output {
            // k·(γ/2)‖w‖² and its gradient k·γ·w.
            assert!((output.value - 4.0 * 12.5).abs() < 1e-12);
            let gradient = flat(output.term.backward().unwrap().get(w.as_tensor()).unwrap());
            assert_gradients_close(&[gradient], &[vec![12.0, 16.0]], 1e-12, "lazy ∇w");
        }
    }
    assert_eq!(calls, 3);
}

#[test]
fn lazy_rescales_adam() {
    for k in [1u64, 4, 16] {
        let lazy = LazyRegularization::new(k).unwrap();
        let c = k as f64 / (k as f64 + 1.0);
        let params = ParamsAdamW {
            lr: 2e-3,
            beta1: 0.5,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        let adjusted = lazy.adjust_adam(params.clone());
        assert!((adjusted.lr - 2e-3 * c).abs() < 1e-18);
        assert!((adjusted.beta1 - 0.5f64.powf(c)).abs() < 1e-15);
        assert!((adjusted.beta2 - 0.99f64.powf(c)).abs() < 1e-15);
        assert_eq!(adjusted.eps, params.eps);
    }
    assert!(matches!(
        LazyRegularization::new(0),
        Err(Error::InvalidOption { .. })
    ));
}
