//! Deserialised configurations: out-of-range options and unknown loss tags.
#![cfg(feature = "serde")]

use gan_losses::penalty::WganGpConfig;
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
    ] {
        let config: WganGpConfig = serde_json::from_str(json)?;
        let err = config.build().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { .. }), "{json}: {err}");
    }
    Ok(())
}
