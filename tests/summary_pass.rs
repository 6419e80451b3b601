//! The summary that the fused kernel records in the loss's own pass against the summary of the
//! plain candle path, and `discriminator_loss_and_summary` against the separate calls.

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::{
    Batch, BceConfig, DiscriminatorLoss, HingeConfig, Kernel, LeastSquaresConfig, Summary,
    WassersteinConfig,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Builds one loss of each single-term family with the given kernel.
fn losses(kernel: Kernel) -> gan_losses::Result<Vec<Box<dyn DiscriminatorLoss>>> {
    Ok(vec![
        Box::new(BceConfig::default().with_kernel(kernel).build()?),
        Box::new(
            BceConfig::default()
                .with_label_smoothing(0.1)
                .with_group_weights(2.0, 0.5)
                .with_kernel(kernel)
                .build()?,
        ),
        Box::new(
            HingeConfig::default()
                .with_margins(1.5, 0.5)
                .with_kernel(kernel)
                .build()?,
        ),
        Box::new(LeastSquaresConfig::default().with_kernel(kernel).build()?),
        Box::new(WassersteinConfig::default().with_kernel(kernel).build()?),
    ])
}

/// Compares two summaries. The loss terms differ by the plain path's f32 summation error, so
/// they get the relative `term_tolerance`. The other figures are computed in f64 on both paths.
fn assert_summaries_close(fused: &Summary, plain: &Summary, term_tolerance: f64, context: &str) {
    let terms = [
        ("loss", fused.loss, plain.loss),
        ("real_term", fused.real_term, plain.real_term),
        ("fake_term", fused.fake_term, plain.fake_term),
    ];
    for (name, a, b) in terms {
        let gap = (a - b).abs();
        assert!(
            gap <= term_tolerance * (1.0 + b.abs()),
            "{context}: {name} fused {a} plain {b}"
        );
    }
    let pairs = [
        ("real_score", fused.real_score, plain.real_score),
        ("fake_score", fused.fake_score, plain.fake_score),
        ("real_accuracy", fused.real_accuracy, plain.real_accuracy),
        ("fake_accuracy", fused.fake_accuracy, plain.fake_accuracy),
        ("real_sign_mean", fused.real_sign_mean, plain.real_sign_mean),
        (
            "wasserstein_estimate",
            fused.wasserstein_estimate,
            plain.wasserstein_estimate,
        ),
    ];
    for (name, a, b) in pairs {
        let gap = (a - b).abs();
        assert!(
            gap <= 1e-9 * (1.0 + b.abs()),
            "{context}: {name} fused {a} plain {b}"
        );
    }
    assert_eq!(
        fused.inside_margin_fraction, plain.inside_margin_fraction,
        "{context}: inside_margin_fraction"
    );
}

/// Logits with saturating values, exact boundary values and a spread in between.
fn logits(count: usize, offset: f64, dtype: DType) -> candle_core::Result<Tensor> {
    let values: Vec<f64> = (0..count)
        .map(|i| match i % 7 {
            0 => 300.0,
            1 => -100.0,
            2 => 0.0,
            3 => 0.5,
            4 => 1.0,
            _ => (i as f64 * 0.37 + offset).sin() * 4.0,
        })
        .collect();
    Tensor::from_vec(values, (count, 1), &Device::Cpu)?.to_dtype(dtype)
}

#[test]
fn fused_summary_matches_plain() -> TestResult {
    let fused_losses = losses(Kernel::Fused)?;
    let plain_losses = losses(Kernel::Plain)?;
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        let term_tolerance = if dtype == DType::F64 { 1e-9 } else { 1e-4 };
        // 70,000 elements exercise the chunked, parallel pass; 13 the single-chunk one.
        for count in [13usize, 70_000] {
            let real = logits(count, 0.1, dtype)?;
            let fake = logits(count + 3, 1.7, dtype)?;
            let mask_values: Vec<u8> = (0..count).map(|i| u8::from(i % 5 != 0)).collect();
            let mask = Tensor::from_vec(mask_values, (count, 1), &Device::Cpu)?;
            let weights = real.ones_like()?.affine(1.5, 0.0)?;

            let batches = [
                (Batch::new(&real), "plain batches"),
                (
                    Batch::new(&real).with_mask(&mask).with_weights(&weights),
                    "masked and weighted real batch",
                ),
            ];
            for (real_batch, case) in batches {
                let fake_batch = Batch::new(&fake);
                for (index, (fused, plain)) in fused_losses.iter().zip(&plain_losses).enumerate() {
                    let context = format!("{dtype:?} n={count} loss {index} {case}");
                    let a = fused.discriminator_summary(&real_batch, &fake_batch)?;
                    let b = plain.discriminator_summary(&real_batch, &fake_batch)?;
                    assert_summaries_close(&a, &b, term_tolerance, &context);
                }
            }
        }
    }
    Ok(())
}

#[test]
fn loss_and_summary_match_separate_calls() -> TestResult {
    for loss in losses(Kernel::Fused)? {
        let real = Var::from_tensor(&logits(9, 0.3, DType::F32)?)?;
        let fake = logits(5, 2.1, DType::F32)?;
        let real_batch = Batch::new(real.as_tensor());
        let fake_batch = Batch::new(&fake);

        let (value, summary) = loss.discriminator_loss_and_summary(&real_batch, &fake_batch)?;
        let separate = loss.discriminator_loss_with(&real_batch, &fake_batch)?;
        assert_eq!(value.to_scalar::<f32>()?, separate.to_scalar::<f32>()?);
        assert_eq!(
            summary,
            loss.discriminator_summary(&real_batch, &fake_batch)?
        );
        let value_f64 = f64::from(value.to_scalar::<f32>()?);
        assert!(
            (summary.loss - value_f64).abs() <= 1e-6 * (1.0 + value_f64.abs()),
            "summary loss {} against {value_f64}",
            summary.loss
        );

        let joint = value.backward()?;
        let alone = separate.backward()?;
        let joint_gradient = joint.get(real.as_tensor()).ok_or("no joint gradient")?;
        let alone_gradient = alone.get(real.as_tensor()).ok_or("no gradient")?;
        assert_eq!(
            joint_gradient.to_vec2::<f32>()?,
            alone_gradient.to_vec2::<f32>()?
        );
    }
    Ok(())
}
