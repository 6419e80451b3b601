//! Exact penalties on a thread where CANDLE_GRAD_DO_NOT_DETACH is unset.
//!
//! This binary contains one test, because it changes the process environment.

use candle_core::{Device, Tensor, Var};
use gan_losses::penalty::{double_backward_enabled, PenaltyMode, ZeroCenteredConfig};
use gan_losses::Error;

#[test]
fn exact_penalty_without_variable_errors() {
    // No other thread of this binary reads the environment while it changes.
    std::env::remove_var("CANDLE_GRAD_DO_NOT_DETACH");
    // candle reads the variable once per thread, so a new thread reads it as unset.
    let outcome = std::thread::spawn(|| -> Result<(), String> {
        let weight = Var::new(&[[1.0f32], [-2.0]], &Device::Cpu).map_err(|e| e.to_string())?;
        let critic = |x: &Tensor| x.matmul(weight.as_tensor())?.tanh();
        let real =
            Tensor::new(&[[0.5f32, 0.1], [0.2, -0.3]], &Device::Cpu).map_err(|e| e.to_string())?;
        assert!(!double_backward_enabled().map_err(|e| e.to_string())?);

        let r1 = ZeroCenteredConfig::default()
            .build()
            .map_err(|e| e.to_string())?;
        let err = r1.r1(critic, &real).unwrap_err();
        assert!(matches!(err, Error::DoubleBackwardDisabled), "{err}");
        assert!(
            err.to_string().contains("CANDLE_GRAD_DO_NOT_DETACH=1"),
            "{err}"
        );

        let fd = ZeroCenteredConfig::default()
            .with_mode(PenaltyMode::FiniteDifference { step: 1e-2 })
            .build()
            .map_err(|e| e.to_string())?;
        let output = fd.r1(critic, &real).map_err(|e| e.to_string())?;
        assert!(output.value.is_finite());
        Ok(())
    })
    .join();
    match outcome {
        Ok(result) => result.unwrap_or_else(|e| panic!("{e}")),
        Err(_) => panic!("the penalty thread panicked"),
    }
}
