//! The comparison helper that every numeric test relies on: it must reject what lies outside
//! the tolerance and name the worst element.

mod common;

use candle_core::DType;
use common::{assert_close, central_difference, softplus, Tolerance};

#[test]
fn accepts_values_inside_tolerance() {
    let tolerance = Tolerance::new(1e-3, 1e-6);
    assert_close(
        &[1.0005, 0.0, f64::INFINITY, f64::NAN],
        &[1.0, 5e-7, f64::INFINITY, f64::NAN],
        tolerance,
        "inside",
    );
}

#[test]
#[should_panic(expected = "worst at index 2: actual 1.1e0, expected 1e0, gap")]
fn names_worst_index_and_values() {
    let tolerance = Tolerance::new(1e-3, 1e-6);
    assert_close(&[1.01, 2.0, 1.1], &[1.0, 2.0, 1.0], tolerance, "outside");
}

#[test]
#[should_panic(expected = "1 of 2 values outside the tolerance")]
fn rejects_nan_against_number() {
    assert_close(
        &[f64::NAN, 1.0],
        &[0.0, 1.0],
        Tolerance::new(1.0, 1.0),
        "NaN",
    );
}

#[test]
#[should_panic(expected = "worst at index 0: actual inf")]
fn rejects_infinity_against_number() {
    assert_close(
        &[f64::INFINITY],
        &[1e300],
        Tolerance::new(1.0, 1.0),
        "infinity",
    );
}

#[test]
fn half_tolerances_are_looser() {
    let f32 = Tolerance::for_dtype(DType::F32);
    let f16 = Tolerance::for_dtype(DType::F16);
    let bf16 = Tolerance::for_dtype(DType::BF16);
    assert!(f32.accepts(1.0 + 1e-5, 1.0));
    assert!(!f32.accepts(1.0 + 1e-3, 1.0));
    assert!(f16.accepts(1.0 + 1e-3, 1.0));
    assert!(!f16.accepts(1.0 + 1e-2, 1.0));
    assert!(bf16.accepts(1.0 + 1e-2, 1.0));
}

#[test]
fn central_difference_of_softplus_is_sigmoid() {
    let xs = [-3.0, 0.0, 2.5];
    let differences = central_difference(|x| x.iter().map(|&v| softplus(v)).sum(), &xs, 1e-5);
    let sigmoids: Vec<f64> = xs.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
    assert_close(
        &differences,
        &sigmoids,
        Tolerance::new(1e-8, 1e-9),
        "softplus'",
    );
}
