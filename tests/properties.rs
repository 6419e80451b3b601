//! Property tests: finite losses for finite input, unit weights, sum against mean, hinge terms
//! past the margin, weighted BCE with weights (1, 1), and the fused kernel against plain ops.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{
    assert_close, assert_close_scalar, scalar, tensor, values, RefBatch, TensorBatch, Tolerance,
};
use gan_losses::{
    Batch, BceConfig, BceLoss, DiscriminatorLoss, GeneratorForm, GeneratorLoss, HingeConfig, Input,
    Kernel, Reduction, WeightedBceLoss,
};
use proptest::prelude::*;

const CASES: u32 = 64;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(CASES)
}

/// Generates 1 to 16 logits of up to `magnitude` in absolute value.
fn logits(magnitude: f64) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-magnitude..=magnitude, 1..16)
}

/// Generates 1 to 16 logits up to ±300 with weights in [0, 3] and a mask that keeps at least one element.
fn weighted_logits() -> impl Strategy<Value = RefBatch> {
    prop::collection::vec((-300.0f64..=300.0, 0.0f64..3.0, any::<bool>()), 1..16).prop_map(
        |elements| {
            let mut mask: Vec<f64> = elements.iter().map(|e| f64::from(u8::from(e.2))).collect();
            mask[0] = 1.0;
            RefBatch {
                x: elements.iter().map(|e| e.0).collect(),
                weights: Some(elements.iter().map(|e| e.1).collect()),
                mask: Some(mask),
            }
        },
    )
}

/// A loss that is both a discriminator and a generator loss.
trait Both: DiscriminatorLoss + GeneratorLoss {}
impl<T: DiscriminatorLoss + GeneratorLoss> Both for T {}

/// A loss name with the loss built for the fused and for the plain kernel.
type KernelPair = (&'static str, Box<dyn Both>, Box<dyn Both>);

fn reductions() -> impl Strategy<Value = Reduction> {
    prop_oneof![Just(Reduction::Mean), Just(Reduction::Sum)]
}

fn generator_forms() -> impl Strategy<Value = GeneratorForm> {
    prop_oneof![
        Just(GeneratorForm::NonSaturating),
        Just(GeneratorForm::Saturating)
    ]
}

/// The largest magnitude each dtype is tested with, and whether `Sum` is tested. A `Sum` of
/// f16 terms near 30000 exceeds the f16 range, which is a property of the dtype, not the loss.
const RANGES: [(DType, f64, bool); 4] = [
    (DType::F64, 1e300, true),
    (DType::F32, 1e30, true),
    (DType::BF16, 1e30, true),
    (DType::F16, 3e4, false),
];

fn assert_finite(value: &Tensor, what: &str) -> candle_core::Result<()> {
    let v = scalar(value)?;
    assert!(v.is_finite(), "{what}: {v}");
    Ok(())
}

type Outcome = Result<(), Box<dyn std::error::Error>>;

fn run(outcome: Outcome) -> Result<(), TestCaseError> {
    outcome.map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(config())]

    /// Every loss and its gradient are finite for finite logits, however large.
    #[test]
    fn finite_for_finite_input(
        real in logits(1.0),
        fake in logits(1.0),
        scale_index in 0usize..4,
        alpha in 0.0f64..0.99,
        form in generator_forms(),
        reduction in reductions(),
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let (dtype, magnitude, sum_allowed) = RANGES[scale_index];
            let reduction = if sum_allowed { reduction } else { Reduction::Mean };
            let scaled = |v: &[f64]| v.iter().map(|x| x * magnitude).collect::<Vec<_>>();
            let real_var = Var::from_tensor(&tensor(&scaled(&real), &[real.len()], dtype, &device)?)?;
            let fake_var = Var::from_tensor(&tensor(&scaled(&fake), &[fake.len()], dtype, &device)?)?;
            let bce = BceConfig::default()
                .with_reduction(reduction)
                .with_label_smoothing(alpha)
                .with_generator(form)
                .build()?;
            let hinge = HingeConfig::default().with_reduction(reduction).build()?;
            let losses: [(&str, Tensor); 4] = [
                ("bce discriminator", bce.discriminator_loss(real_var.as_tensor(), fake_var.as_tensor())?),
                ("bce generator", bce.generator_loss(fake_var.as_tensor())?),
                ("hinge discriminator", hinge.discriminator_loss(real_var.as_tensor(), fake_var.as_tensor())?),
                ("hinge generator", hinge.generator_loss(fake_var.as_tensor())?),
            ];
            for (name, loss) in &losses {
                let what = format!("{name} {dtype:?} {reduction:?}");
                assert_finite(loss, &what)?;
                let grads = loss.backward()?;
                for var in [&fake_var, &real_var] {
                    if let Some(gradient) = grads.get(var.as_tensor()) {
                        let all_finite = values(gradient)?.iter().all(|g| g.is_finite());
                        assert!(all_finite, "{}: gradient not finite", what);
                    }
                }
            }
            Ok(())
        })())?;
    }

    /// Probabilities anywhere in [0, 1], ends included, give finite losses.
    #[test]
    fn finite_for_any_probability(
        real in prop::collection::vec(0.0f64..=1.0, 1..16),
        fake in prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0], 1..16),
        form in generator_forms(),
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let loss = BceConfig::default()
                .with_input(Input::Probabilities)
                .with_generator(form)
                .build()?;
            for dtype in [DType::F32, DType::F64] {
                let r = tensor(&real, &[real.len()], dtype, &device)?;
                let f = tensor(&fake, &[fake.len()], dtype, &device)?;
                assert_finite(&loss.discriminator_loss(&r, &f)?, "discriminator")?;
                assert_finite(&loss.generator_loss(&f)?, "generator")?;
            }
            Ok(())
        })())?;
    }

    /// Weights and a mask of ones leave every loss unchanged.
    #[test]
    fn unit_weights_equal_unweighted(
        real in logits(50.0),
        fake in logits(50.0),
        reduction in reductions(),
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let r = tensor(&real, &[real.len()], DType::F32, &device)?;
            let f = tensor(&fake, &[fake.len()], DType::F32, &device)?;
            let real_ones = r.ones_like()?;
            let fake_ones = f.ones_like()?;
            let weighted_real = Batch::new(&r).with_weights(&real_ones).with_mask(&real_ones);
            let weighted_fake = Batch::new(&f).with_weights(&fake_ones);
            let bce = BceConfig::default().with_reduction(reduction).build()?;
            let hinge = HingeConfig::default().with_reduction(reduction).build()?;
            let losses: [&dyn DiscriminatorLoss; 2] = [&bce, &hinge];
            for loss in losses {
                let weighted = values(&loss.discriminator_loss_with(&weighted_real, &weighted_fake)?)?;
                let plain = values(&loss.discriminator_loss(&r, &f)?)?;
                assert_eq!(weighted, plain);
            }
            let weighted = values(&bce.generator_loss_with(None, &weighted_fake)?)?;
            let plain = values(&bce.generator_loss(&f)?)?;
            assert_eq!(weighted, plain);
            Ok(())
        })())?;
    }

    /// For real and fake batches of one size N, the `Sum` loss is N times the `Mean` loss.
    #[test]
    fn sum_equals_mean_times_count(
        pairs in prop::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 1..16),
        alpha in 0.0f64..0.5,
        margin in 0.1f64..5.0,
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let count = pairs.len();
            let real: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            let fake: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            let r = tensor(&real, &[count], DType::F64, &device)?;
            let f = tensor(&fake, &[count], DType::F64, &device)?;
            let tolerance = Tolerance::new(1e-12, 1e-12);
            let bce = |reduction| BceConfig::default()
                .with_reduction(reduction)
                .with_label_smoothing(alpha)
                .build();
            let hinge = |reduction| HingeConfig::default()
                .with_reduction(reduction)
                .with_margin(margin)
                .build();
            let pairs_of_losses: [(Box<dyn DiscriminatorLoss>, Box<dyn DiscriminatorLoss>); 2] = [
                (Box::new(bce(Reduction::Sum)?), Box::new(bce(Reduction::Mean)?)),
                (Box::new(hinge(Reduction::Sum)?), Box::new(hinge(Reduction::Mean)?)),
            ];
            for (sum_loss, mean_loss) in &pairs_of_losses {
                let sum = scalar(&sum_loss.discriminator_loss(&r, &f)?)?;
                let mean = scalar(&mean_loss.discriminator_loss(&r, &f)?)?;
                assert!(tolerance.accepts(sum, mean * count as f64), "sum {} mean {}", sum, mean);
            }
            let sum = scalar(&bce(Reduction::Sum)?.generator_loss(&f)?)?;
            let mean = scalar(&bce(Reduction::Mean)?.generator_loss(&f)?)?;
            assert!(tolerance.accepts(sum, mean * count as f64), "generator sum {} mean {}", sum, mean);
            Ok(())
        })())?;
    }

    /// A hinge term is exactly 0 from the margin on (r ≥ m_r, f ≤ −m_f) and positive inside it.
    #[test]
    fn hinge_terms_vanish_past_margin(
        real in logits(10.0),
        fake in logits(10.0),
        real_margin in 0.1f64..5.0,
        fake_margin in 0.1f64..5.0,
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let loss = HingeConfig::default().with_margins(real_margin, fake_margin).build()?;
            // Put some outputs exactly on the margin.
            let mut real = real.clone();
            real[0] = real_margin;
            let mut fake = fake.clone();
            fake[0] = -fake_margin;
            let r = tensor(&real, &[real.len()], DType::F64, &device)?;
            let f = tensor(&fake, &[fake.len()], DType::F64, &device)?;
            let terms = loss.discriminator_terms(&Batch::new(&r), &Batch::new(&f))?;
            for (x, term) in real.iter().zip(values(&terms.real)?) {
                if *x >= real_margin {
                    assert_eq!(term, 0.0, "real {} margin {}", x, real_margin);
                } else {
                    assert!(term > 0.0, "real {} margin {} term {}", x, real_margin, term);
                }
            }
            for (x, term) in fake.iter().zip(values(&terms.fake)?) {
                if *x <= -fake_margin {
                    assert_eq!(term, 0.0, "fake {} margin {}", x, fake_margin);
                } else {
                    assert!(term > 0.0, "fake {} margin {} term {}", x, fake_margin, term);
                }
            }
            Ok(())
        })())?;
    }

    /// `WeightedBceLoss` with weights (1, 1) equals `BceLoss` exactly.
    #[test]
    fn weighted_bce_unit_weights_equal_bce(
        real in logits(300.0),
        fake in logits(300.0),
        reduction in reductions(),
        alpha in 0.0f64..0.5,
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let config = BceConfig::default().with_reduction(reduction).with_label_smoothing(alpha);
            let weighted = WeightedBceLoss::from_config(config.with_group_weights(1.0, 1.0))?;
            let plain = BceLoss::from_config(config)?;
            for dtype in [DType::F32, DType::F64] {
                let r = tensor(&real, &[real.len()], dtype, &device)?;
                let f = tensor(&fake, &[fake.len()], dtype, &device)?;
                let a = values(&weighted.discriminator_loss(&r, &f)?)?;
                let b = values(&plain.discriminator_loss(&r, &f)?)?;
                assert_eq!(a, b);
            }
            Ok(())
        })())?;
    }

    /// The fused kernel gives the value and the gradients of the plain ops, with weights and
    /// masks, for the discriminator and the generator loss.
    #[test]
    fn fused_equals_plain(
        real in weighted_logits(),
        fake in weighted_logits(),
        reduction in reductions(),
        alpha in 0.0f64..0.5,
        margin in 0.1f64..5.0,
        dtype_index in 0usize..4,
        form in generator_forms(),
    ) {
        run((|| -> Outcome {
            let device = Device::Cpu;
            let dtype = [DType::F32, DType::F64, DType::F16, DType::BF16][dtype_index];
            let tolerance = Tolerance::for_dtype(dtype);
            let r = TensorBatch::new(&real, &[real.x.len()], dtype, &device)?;
            let f = TensorBatch::new(&fake, &[fake.x.len(), 1], dtype, &device)?;
            let bce = |kernel| BceConfig::default()
                .with_kernel(kernel)
                .with_reduction(reduction)
                .with_label_smoothing(alpha)
                .with_generator(form)
                .build();
            let hinge = |kernel| HingeConfig::default()
                .with_kernel(kernel)
                .with_reduction(reduction)
                .with_margin(margin)
                .build();
            let losses: [KernelPair; 2] = [
                ("bce", Box::new(bce(Kernel::Fused)?), Box::new(bce(Kernel::Plain)?)),
                ("hinge", Box::new(hinge(Kernel::Fused)?), Box::new(hinge(Kernel::Plain)?)),
            ];
            for (name, fused, plain) in &losses {
                let what = format!("{name} {dtype:?} {reduction:?}");
                let fused_value = fused.discriminator_loss_with(&r.batch(), &f.batch())?;
                let plain_value = plain.discriminator_loss_with(&r.batch(), &f.batch())?;
                assert_close_scalar(scalar(&fused_value)?, scalar(&plain_value)?, tolerance, &what);
                let fused_grads = fused_value.backward()?;
                let plain_grads = plain_value.backward()?;
                for (side, batch) in [("real", &r), ("fake", &f)] {
                    assert_close(
                        &batch.gradient(&fused_grads)?,
                        &batch.gradient(&plain_grads)?,
                        tolerance,
                        &format!("{what} {side} gradient"),
                    );
                }

                let fused_value = fused.generator_loss_with(None, &f.batch())?;
                let plain_value = plain.generator_loss_with(None, &f.batch())?;
                let what = format!("{what} generator");
                assert_close_scalar(scalar(&fused_value)?, scalar(&plain_value)?, tolerance, &what);
                assert_close(
                    &f.gradient(&fused_value.backward()?)?,
                    &f.gradient(&plain_value.backward()?)?,
                    tolerance,
                    &format!("{what} gradient"),
                );
            }
            Ok(())
        })())?;
    }
}
