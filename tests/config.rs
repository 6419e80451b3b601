//! Losses chosen by name or configuration, closures and weighted sums.

mod reference;

use candle_core::{Device, Tensor, Var};
use gan_losses::{
    AnyLoss, Batch, BceConfig, BceLoss, DiscriminatorLoss, Error, FnLoss, GanLoss, GeneratorForm,
    GeneratorLoss, HingeConfig, HingeLoss, LeastSquaresConfig, LeastSquaresLoss, LossConfig,
    RaHingeLoss, RaLsganLoss, RaSganLoss, RsganLoss, SumLoss, WassersteinLoss, WeightedBceLoss,
};
use reference::{assert_all_close, assert_close, bce, flat, scalar, tensor};

fn real() -> Tensor {
    tensor(&[1.5, -0.5, 0.25, 2.0], &[4, 1])
}

fn fake() -> Tensor {
    tensor(&[-1.0, 0.5, 0.0, -2.5], &[4, 1])
}

/// Every canonical name with the loss it should build.
fn named_losses() -> Vec<(&'static str, Box<dyn GanLoss>)> {
    vec![
        ("bce", Box::new(BceLoss::new())),
        (
            "saturating",
            Box::new(
                BceConfig::default()
                    .with_generator(GeneratorForm::Saturating)
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "weighted-bce",
            Box::new(WeightedBceLoss::new(1.0, 1.0).unwrap()),
        ),
        ("hinge", Box::new(HingeLoss::new())),
        ("lsgan", Box::new(LeastSquaresLoss::new())),
        ("wgan", Box::new(WassersteinLoss::new())),
        ("rsgan", Box::new(RsganLoss::new())),
        ("rasgan", Box::new(RaSganLoss::new())),
        ("ralsgan", Box::new(RaLsganLoss::new())),
        ("ra-hinge", Box::new(RaHingeLoss::new())),
    ]
}

#[test]
fn names_round_trip() {
    assert_eq!(LossConfig::NAMES.len(), named_losses().len());
    for name in LossConfig::NAMES {
        let config: LossConfig = name.parse().unwrap();
        assert_eq!(config.to_string(), *name);
        assert_eq!(config.name(), *name);
        let again: LossConfig = config.to_string().parse().unwrap();
        assert_eq!(again, config, "{name}");
    }
}

#[test]
fn names_build_the_named_loss() {
    let (real, fake) = (real(), fake());
    let (real_batch, fake_batch) = (Batch::new(&real), Batch::new(&fake));
    for (name, expected) in named_losses() {
        let loss: AnyLoss = name.parse::<LossConfig>().unwrap().build().unwrap();
        let d = loss.discriminator_loss(&real, &fake).unwrap();
        let d_expected = expected.discriminator_loss(&real, &fake).unwrap();
        assert_close(scalar(&d), scalar(&d_expected), 1e-12, name);

        assert_eq!(
            loss.needs_real_logits(),
            expected.needs_real_logits(),
            "{name}"
        );
        let g = loss
            .generator_loss_with(Some(&real_batch), &fake_batch)
            .unwrap();
        let g_expected = expected
            .generator_loss_with(Some(&real_batch), &fake_batch)
            .unwrap();
        assert_close(scalar(&g), scalar(&g_expected), 1e-12, name);

        let summary = loss
            .discriminator_summary(&real_batch, &fake_batch)
            .unwrap();
        let summary_expected = expected
            .discriminator_summary(&real_batch, &fake_batch)
            .unwrap();
        assert_eq!(summary, summary_expected, "{name}");
    }
}

#[test]
fn aliases_parse_case_insensitively() {
    let cases = [
        ("NS", "bce"),
        ("Non_Saturating", "bce"),
        (" vanilla ", "bce"),
        ("MiniMax", "saturating"),
        ("WBCE", "weighted-bce"),
        ("Hinge", "hinge"),
        ("least squares", "lsgan"),
        ("LSGAN", "lsgan"),
        ("Wasserstein", "wgan"),
        ("relativistic", "rsgan"),
        ("RaSGAN", "rasgan"),
        ("ra_sgan", "rasgan"),
        ("RA-LSGAN", "ralsgan"),
        ("RaHinge", "ra-hinge"),
        ("ra hinge", "ra-hinge"),
    ];
    for (alias, name) in cases {
        let config: LossConfig = alias.parse().unwrap();
        assert_eq!(config.name(), name, "{alias:?}");
    }
}

#[test]
fn unknown_name_lists_known_names() {
    let error = "softmax-gan".parse::<LossConfig>().unwrap_err();
    let message = error.to_string();
    match &error {
        Error::UnknownLoss { name, known } => {
            assert_eq!(name, "softmax-gan");
            assert_eq!(known, &LossConfig::NAMES.join(", "));
        }
        other => panic!("expected UnknownLoss, got {other:?}"),
    }
    assert!(message.contains("\"softmax-gan\""), "{message}");
    for name in LossConfig::NAMES {
        assert!(message.contains(name), "{message} lacks {name}");
    }
    assert!(matches!(
        "".parse::<LossConfig>(),
        Err(Error::UnknownLoss { .. })
    ));
}

#[test]
fn config_build_checks_options() {
    let config = LossConfig::from(HingeConfig::default().with_margin(-1.0));
    match config.build() {
        Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "real_margin"),
        other => panic!("expected InvalidOption, got {other:?}"),
    }
    let config = LossConfig::from(LeastSquaresConfig::default().with_targets(2.0, 0.0));
    assert_eq!(config.name(), "lsgan");
    let loss = config.build().unwrap();
    assert!(matches!(loss, AnyLoss::LeastSquares(_)));
}

#[test]
fn fn_loss_matches_closures() {
    let loss = FnLoss::new(
        |real: &Tensor, fake: &Tensor| Ok((fake.sqr()?.mean_all()? - real.mean_all()?)?),
        |fake: &Tensor| Ok(fake.mean_all()?.neg()?),
    );
    let r = [1.0, 2.0, 4.0];
    let f = [0.5, -1.5];
    let real = Var::from_tensor(&tensor(&r, &[3])).unwrap();
    let fake = Var::from_tensor(&tensor(&f, &[2])).unwrap();
    let d = loss
        .discriminator_loss(real.as_tensor(), fake.as_tensor())
        .unwrap();
    let expected = (0.25 + 2.25) / 2.0 - 7.0 / 3.0;
    assert_close(scalar(&d), expected, 1e-12, "D");
    let grads = d.backward().unwrap();
    assert_all_close(
        &flat(grads.get(&fake).unwrap()),
        &[0.5, -1.5],
        1e-12,
        "∂D/∂f",
    );
    assert_all_close(
        &flat(grads.get(&real).unwrap()),
        &[-1.0 / 3.0; 3],
        1e-12,
        "∂D/∂r",
    );

    let g = loss.generator_loss(fake.as_tensor()).unwrap();
    assert_close(scalar(&g), 0.5, 1e-12, "G");
    assert!(!loss.needs_real_logits());

    let summary = loss
        .discriminator_summary(&Batch::new(real.as_tensor()), &Batch::new(fake.as_tensor()))
        .unwrap();
    assert_close(summary.loss, expected, 1e-12, "summary loss");
    assert!(summary.real_term.is_nan());
    assert!(summary.fake_term.is_nan());
    assert_close(
        summary.wasserstein_estimate,
        7.0 / 3.0 + 0.5,
        1e-12,
        "estimate",
    );
}

#[test]
fn fn_loss_rejects_what_closures_cannot_see() {
    let loss = FnLoss::new(
        |real: &Tensor, fake: &Tensor| Ok((fake.mean_all()? - real.mean_all()?)?),
        |fake: &Tensor| Ok(fake.mean_all()?.neg()?),
    );
    let (real, fake) = (real(), fake());
    let weights = fake.ones_like().unwrap();
    let weighted = Batch::new(&fake).with_weights(&weights);
    let masked = Batch::new(&fake).with_mask(&weights);
    for batch in [weighted, masked] {
        let d = loss.discriminator_loss_with(&Batch::new(&real), &batch);
        assert!(
            matches!(d, Err(Error::Unsupported { loss: "FnLoss", .. })),
            "{d:?}"
        );
        let g = loss.generator_loss_with(None, &batch);
        assert!(
            matches!(g, Err(Error::Unsupported { loss: "FnLoss", .. })),
            "{g:?}"
        );
    }
    let terms = loss.discriminator_terms(&Batch::new(&real), &Batch::new(&fake));
    assert!(matches!(terms, Err(Error::Unsupported { .. })));

    // Input checks run before the closures.
    let empty = Tensor::zeros((0,), candle_core::DType::F64, &Device::Cpu).unwrap();
    let d = loss.discriminator_loss(&real, &empty);
    assert!(matches!(d, Err(Error::EmptyBatch { .. })), "{d:?}");
}

#[test]
fn fn_loss_with_real_logits() {
    // Paired RSGAN written by hand must equal the built-in loss.
    let softplus = |x: &Tensor| -> candle_core::Result<Tensor> {
        (x.abs()?.neg()?.exp()? + 1.0)?.log()? + x.relu()?
    };
    let loss = FnLoss::with_real_logits(
        move |real: &Tensor, fake: &Tensor| Ok(softplus(&(fake - real)?)?.mean_all()?),
        move |real: &Tensor, fake: &Tensor| Ok(softplus(&(real - fake)?)?.mean_all()?),
    );
    assert!(loss.needs_real_logits());
    let (real, fake) = (real(), fake());
    assert!(matches!(
        loss.generator_loss(&fake),
        Err(Error::MissingRealLogits { loss: "FnLoss" })
    ));
    let g = loss
        .generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))
        .unwrap();
    let expected = RsganLoss::new()
        .generator_loss_with(Some(&Batch::new(&real)), &Batch::new(&fake))
        .unwrap();
    assert_close(scalar(&g), scalar(&expected), 1e-12, "G");
    let d = loss.discriminator_loss(&real, &fake).unwrap();
    let expected = RsganLoss::new().discriminator_loss(&real, &fake).unwrap();
    assert_close(scalar(&d), scalar(&expected), 1e-12, "D");
}

#[test]
fn sum_loss_adds_weighted_parts() {
    let loss = SumLoss::new(1.0, HingeLoss::new())
        .unwrap()
        .with(0.5, LeastSquaresLoss::new())
        .unwrap()
        .with_boxed(2.0, Box::new(RaSganLoss::new()))
        .unwrap();
    assert_eq!(loss.weights(), vec![1.0, 0.5, 2.0]);
    assert!(loss.needs_real_logits());

    let (r, f) = ([1.5, -0.5, 0.25], [-1.0, 0.5]);
    let real = Var::from_tensor(&tensor(&r, &[3])).unwrap();
    let fake = Var::from_tensor(&tensor(&f, &[2])).unwrap();
    let (real_batch, fake_batch) = (Batch::new(real.as_tensor()), Batch::new(fake.as_tensor()));

    let mean =
        |v: &[f64], g: &dyn Fn(f64) -> f64| v.iter().map(|x| g(*x)).sum::<f64>() / v.len() as f64;
    let (r_mean, f_mean) = (mean(&r, &|x| x), mean(&f, &|x| x));
    let hinge = mean(&r, &|x| (1.0 - x).max(0.0)) + mean(&f, &|x| (1.0 + x).max(0.0));
    let lsgan = 0.5 * mean(&r, &|x| (x - 1.0).powi(2)) + 0.5 * mean(&f, &|x| x * x);
    let rasgan = mean(&r, &|x| bce(x - f_mean, 1.0)) + mean(&f, &|x| bce(x - r_mean, 0.0));
    let expected = hinge + 0.5 * lsgan + 2.0 * rasgan;

    let d = loss
        .discriminator_loss_with(&real_batch, &fake_batch)
        .unwrap();
    assert_close(scalar(&d), expected, 1e-12, "D");
    let summary = loss
        .discriminator_summary(&real_batch, &fake_batch)
        .unwrap();
    assert_close(summary.loss, expected, 1e-12, "summary loss");
    assert_close(
        summary.real_term + summary.fake_term,
        expected,
        1e-12,
        "summary terms",
    );
    let hinge_summary = HingeLoss::new()
        .discriminator_summary(&real_batch, &fake_batch)
        .unwrap();
    assert_eq!(summary.real_score, hinge_summary.real_score);

    // The gradient is the weighted sum of the parts' gradients.
    let grads = d.backward().unwrap();
    let mut expected_grad = vec![0.0; 2];
    for (weight, part) in [
        (1.0, Box::new(HingeLoss::new()) as Box<dyn GanLoss>),
        (0.5, Box::new(LeastSquaresLoss::new())),
        (2.0, Box::new(RaSganLoss::new())),
    ] {
        let value = part
            .discriminator_loss_with(&real_batch, &fake_batch)
            .unwrap();
        let part_grads = value.backward().unwrap();
        for (total, g) in expected_grad
            .iter_mut()
            .zip(flat(part_grads.get(&fake).unwrap()))
        {
            *total += weight * g;
        }
    }
    assert_all_close(
        &flat(grads.get(&fake).unwrap()),
        &expected_grad,
        1e-12,
        "∂D/∂f",
    );

    assert!(matches!(
        loss.generator_loss(fake.as_tensor()),
        Err(Error::MissingRealLogits { loss: "RaSGAN" })
    ));
    let g = loss
        .generator_loss_with(Some(&real_batch), &fake_batch)
        .unwrap();
    let g_hinge = -mean(&f, &|x| x);
    let g_lsgan = 0.5 * mean(&f, &|x| (x - 1.0).powi(2));
    let g_rasgan = mean(&f, &|x| bce(x - r_mean, 1.0)) + mean(&r, &|x| bce(x - f_mean, 0.0));
    assert_close(
        scalar(&g),
        g_hinge + 0.5 * g_lsgan + 2.0 * g_rasgan,
        1e-12,
        "G",
    );
}

#[test]
fn sum_loss_terms_and_errors() {
    let loss = SumLoss::new(2.0, LeastSquaresLoss::new())
        .unwrap()
        .with(1.0, WassersteinLoss::new())
        .unwrap();
    let (real, fake) = (real(), fake());
    let (real_batch, fake_batch) = (Batch::new(&real), Batch::new(&fake));
    let terms = loss.discriminator_terms(&real_batch, &fake_batch).unwrap();
    let expected: Vec<f64> = flat(&real)
        .iter()
        .map(|x| 2.0 * 0.5 * (x - 1.0).powi(2) - x)
        .collect();
    assert_all_close(&flat(&terms.real), &expected, 1e-12, "real terms");

    let with_fn = SumLoss::new(1.0, HingeLoss::new()).unwrap().with(
        1.0,
        FnLoss::new(
            |real: &Tensor, _: &Tensor| Ok(real.mean_all()?),
            |fake: &Tensor| Ok(fake.mean_all()?),
        ),
    );
    let terms = with_fn
        .unwrap()
        .discriminator_terms(&real_batch, &fake_batch);
    assert!(matches!(terms, Err(Error::Unsupported { .. })));

    for weight in [-1.0, f64::NAN, f64::INFINITY] {
        let error = SumLoss::new(weight, HingeLoss::new()).err();
        assert!(
            matches!(error, Some(Error::InvalidOption { .. })),
            "{weight}"
        );
        let error = SumLoss::new(1.0, HingeLoss::new())
            .unwrap()
            .with(weight, HingeLoss::new())
            .err();
        assert!(
            matches!(error, Some(Error::InvalidOption { .. })),
            "{weight}"
        );
    }
}

#[cfg(feature = "serde")]
mod serde_round_trip {
    use super::*;
    use gan_losses::{
        Kernel, RaHingeConfig, RaLsganConfig, RaSganConfig, Reduction, RsganConfig,
        WassersteinConfig,
    };

    fn configs() -> Vec<LossConfig> {
        vec![
            LossConfig::Bce(
                BceConfig::default()
                    .with_label_smoothing(0.1)
                    .with_generator(GeneratorForm::Saturating),
            ),
            LossConfig::WeightedBce(BceConfig::default().with_group_weights(3.0, 1.0)),
            LossConfig::Hinge(HingeConfig::default().with_margins(2.0, 0.5)),
            LossConfig::LeastSquares(
                LeastSquaresConfig::default()
                    .with_targets(1.0, -1.0)
                    .with_generator_target(0.0)
                    .with_reduction(Reduction::Sum),
            ),
            LossConfig::Wasserstein(WassersteinConfig::default().with_kernel(Kernel::Plain)),
            LossConfig::Rsgan(RsganConfig::default().with_label_smoothing(0.2)),
            LossConfig::RaSgan(RaSganConfig::default().with_targets(0.9, 0.1)),
            LossConfig::RaLsgan(RaLsganConfig::default().with_group_weights(2.0, 1.0)),
            LossConfig::RaHinge(RaHingeConfig::default().with_margin(0.5)),
        ]
    }

    #[test]
    fn configs_round_trip_through_json() {
        for config in configs() {
            let json = serde_json::to_string(&config).unwrap();
            let back: LossConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, config, "{json}");
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let tag = if config.name() == "saturating" {
                "bce"
            } else {
                config.name()
            };
            assert_eq!(value["loss"], tag, "{json}");
        }
        for name in LossConfig::NAMES {
            let config: LossConfig = name.parse().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(serde_json::from_str::<LossConfig>(&json).unwrap(), config);
        }
    }

    #[test]
    fn missing_options_take_defaults() {
        let config: LossConfig =
            serde_json::from_str(r#"{"loss": "hinge", "real_margin": 2.0}"#).unwrap();
        assert_eq!(
            config,
            LossConfig::Hinge(HingeConfig::default().with_margins(2.0, 1.0))
        );
        let config: LossConfig = serde_json::from_str(r#"{"loss": "ra-hinge"}"#).unwrap();
        assert_eq!(config, "ra-hinge".parse().unwrap());
        let config: LossConfig = serde_json::from_str(
            r#"{"loss": "rasgan", "labels": {"one-sided-smoothing": 0.1}, "generator": "saturating"}"#,
        )
        .unwrap();
        let expected = RaSganConfig::default()
            .with_label_smoothing(0.1)
            .with_generator(GeneratorForm::Saturating);
        assert_eq!(config, LossConfig::RaSgan(expected));
        assert!(serde_json::from_str::<LossConfig>(r#"{"loss": "nope"}"#).is_err());
    }

    #[test]
    fn each_config_round_trips_alone() {
        let lsgan = LeastSquaresConfig::default().with_targets(0.5, -0.5);
        let json = serde_json::to_string(&lsgan).unwrap();
        assert_eq!(
            serde_json::from_str::<LeastSquaresConfig>(&json).unwrap(),
            lsgan
        );
        let rsgan = RsganConfig::default().with_generator(GeneratorForm::Saturating);
        let json = serde_json::to_string(&rsgan).unwrap();
        assert_eq!(serde_json::from_str::<RsganConfig>(&json).unwrap(), rsgan);
    }
}
