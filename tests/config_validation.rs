//! Deserialised configurations: out-of-range options, unknown fields and unknown loss tags.
#![cfg(feature = "serde")]

use gan_losses::penalty::{LazyRegularization, WganGpConfig, ZeroCenteredConfig};
use gan_losses::{Error, LossConfig};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn invalid_values_rejected_by_build() -> TestResult {
    for json in [
        r#"{"loss": "hinge", "real_margin": -1.0}"#,
        r#"{"loss": "hinge", "fake_margin": 0.0}"#,
        r#"{"loss": "bce", "labels": {"one-sided-smoothing": 1.0}}"#,
        r#"{"loss": "bce", "labels": {"explicit": {"real": 1.5, "fake": 0.0}}}"#,
        r#"{"loss": "bce", "real_weight": -2.0}"#,
        r#"{"loss": "rasgan", "labels": {"one-sided-smoothing": -0.1}}"#,
    ] {
        let config: LossConfig = serde_json::from_str(json)?;
        let err = config.build().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { .. }), "{json}: {err}");
    }
    Ok(())
}

#[test]
fn unknown_loss_tag_rejected() {
    let result = serde_json::from_str::<LossConfig>(r#"{"loss": "hinj"}"#);
    assert!(result.is_err());
}

#[test]
fn wgan_gp_invalid_values_rejected_by_build() -> TestResult {
    for json in [
        r#"{"lambda": -1.0}"#,
        r#"{"target": -1.0}"#,
        r#"{"mode": {"finite-difference": {"step": 0.0}}}"#,
        r#"{"epsilon": 0.0}"#,
    ] {
        let config: WganGpConfig = serde_json::from_str(json)?;
        let err = config.build().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { .. }), "{json}: {err}");
    }
    Ok(())
}

#[test]
fn misspelt_loss_option_rejected() {
    let result = serde_json::from_str::<LossConfig>(r#"{"loss": "hinge", "real_margn": 2.0}"#);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("real_margn"), "{message}");
}

#[test]
fn misspelt_penalty_option_rejected() {
    let result = serde_json::from_str::<ZeroCenteredConfig>(r#"{"gama": 1.0}"#);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("gama"), "{message}");
}

#[test]
fn tagged_options_still_parse() -> TestResult {
    let config: LossConfig = serde_json::from_str(r#"{"loss": "hinge", "real_margin": 2.0}"#)?;
    let LossConfig::Hinge(hinge) = config else {
        panic!("expected a hinge configuration, got {config:?}");
    };
    assert_eq!(hinge.real_margin, 2.0);
    assert_eq!(hinge.fake_margin, 1.0);
    Ok(())
}

#[test]
fn lazy_interval_zero_rejected() {
    let result = serde_json::from_str::<LazyRegularization>(r#"{"interval": 0}"#);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("interval"), "{message}");
}

#[test]
fn lazy_interval_round_trips() -> TestResult {
    let lazy = LazyRegularization::new(16)?;
    let json = serde_json::to_string(&lazy)?;
    let back: LazyRegularization = serde_json::from_str(&json)?;
    assert_eq!(back, lazy);
    Ok(())
}
