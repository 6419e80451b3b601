//! Exact penalties reject a process where candle detaches gradients in backward.
//!
//! candle reads `CANDLE_GRAD_DO_NOT_DETACH` once per thread, so the check runs in a child
//! process: this test binary re-runs itself without the variable, selecting only the ignored
//! test below.

use std::process::Command;

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::penalty::{double_backward_enabled, PenaltyMode, ZeroCenteredConfig};
use gan_losses::Error;

const VARIABLE: &str = "CANDLE_GRAD_DO_NOT_DETACH";
const CHILD_MARKER: &str = "GAN_LOSSES_DETACHED_CHILD";

#[test]
fn exact_mode_rejects_detached_backward() {
    let executable = std::env::current_exe().unwrap();
    let output = Command::new(executable)
        .args(["detached_child_reports_error", "--exact", "--ignored"])
        .env_remove(VARIABLE)
        .env(CHILD_MARKER, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test:\n{stdout}"
    );
}

#[test]
fn double_backward_enabled_in_this_process() {
    // The crate's .cargo/config.toml sets the variable for `cargo test`.
    assert!(std::env::var_os(VARIABLE).is_some());
    assert!(double_backward_enabled().unwrap());
}

#[test]
#[ignore = "run by exact_mode_rejects_detached_backward in a child process without the variable"]
fn detached_child_reports_error() {
    if std::env::var_os(CHILD_MARKER).is_none() {
        return;
    }
    assert!(std::env::var_os(VARIABLE).is_none());
    assert!(!double_backward_enabled().unwrap());

    let w = Var::new(&[[3.0f64], [4.0]], &Device::Cpu).unwrap();
    let real = Tensor::ones((2, 2), DType::F64, &Device::Cpu).unwrap();
    let critic = |x: &Tensor| x.matmul(w.as_tensor());

    let exact = ZeroCenteredConfig::default().build().unwrap();
    let error = exact.r1(critic, &real).unwrap_err();
    assert!(matches!(error, Error::DoubleBackwardDisabled));
    let message = error.to_string();
    assert!(message.contains("CANDLE_GRAD_DO_NOT_DETACH=1"), "{message}");
    assert!(message.contains("before the process starts"), "{message}");

    // The finite-difference mode needs first-order gradients only and still works.
    let approximate = ZeroCenteredConfig::default()
        .with_gamma(2.0)
        .with_mode(PenaltyMode::FiniteDifference { step: 1e-2 })
        .build()
        .unwrap();
    let output = approximate.r1(critic, &real).unwrap();
    assert!((output.value - 25.0).abs() < 1e-9);
    let gradient = output.term.backward().unwrap();
    let gradient = gradient.get(w.as_tensor()).unwrap().flatten_all().unwrap();
    let gradient = gradient.to_vec1::<f64>().unwrap();
    assert!((gradient[0] - 6.0).abs() < 1e-9, "{gradient:?}");
    assert!((gradient[1] - 8.0).abs() < 1e-9, "{gradient:?}");
}
