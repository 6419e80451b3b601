//! Autograd gradients of every loss against the analytic f64 gradient and against f64 central
//! differences of the f64 reference, for both kernels, both reductions and every dtype.

mod common;

use candle_core::{DType, Device};
use common::{
    assert_close, bce, bce_derivative, bce_probability, bce_probability_derivative,
    central_difference, hinge, hinge_derivative, logits, probabilities, sample_mask,
    sample_weights, RefBatch, TensorBatch, TestResult, Tolerance, DTYPES,
};
use gan_losses::{
    BceConfig, DiscriminatorLoss, GeneratorForm, GeneratorLoss, HingeConfig, Input, Kernel,
    Reduction, WeightedBceLoss,
};

const KERNELS: [Kernel; 2] = [Kernel::Plain, Kernel::Fused];
const REDUCTIONS: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];
const REAL_SHAPE: [usize; 2] = [12, 1];
const FAKE_SHAPE: [usize; 4] = [2, 1, 2, 2];

/// Step of the central differences. The truncation error is about step² and the rounding error
/// about 300·ε/step for logits of 300, both far below [`DIFFERENCE_TOLERANCE`].
const STEP: f64 = 1e-5;
const DIFFERENCE_TOLERANCE: Tolerance = Tolerance::new(1e-6, 1e-7);

/// One batch of a gradient case: its reference values, its element term and derivative, and
/// the loss's factor on it.
struct Side {
    batch: RefBatch,
    value: Box<dyn Fn(f64) -> f64>,
    derivative: Box<dyn Fn(f64) -> f64>,
    scale: f64,
    /// Where central differences are meaningful (away from the ends of [0, 1] for
    /// probabilities, where p ± step leaves the domain).
    differentiable_at: fn(f64) -> bool,
}

fn everywhere(_: f64) -> bool {
    true
}

fn interior_probability(p: f64) -> bool {
    p > 1e-3 && p < 1.0 - 1e-3
}

fn bce_side(batch: RefBatch, target: f64, scale: f64) -> Side {
    Side {
        batch,
        value: Box::new(move |x| bce(x, target)),
        derivative: Box::new(move |x| bce_derivative(x, target)),
        scale,
        differentiable_at: everywhere,
    }
}

fn probability_side(batch: RefBatch, target: f64, scale: f64) -> Side {
    Side {
        batch,
        value: Box::new(move |p| bce_probability(p, target)),
        derivative: Box::new(move |p| bce_probability_derivative(p, target)),
        scale,
        differentiable_at: interior_probability,
    }
}

fn hinge_side(batch: RefBatch, margin: f64, sign: f64, scale: f64) -> Side {
    Side {
        batch,
        value: Box::new(move |x| hinge(x, margin, sign)),
        derivative: Box::new(move |x| hinge_derivative(x, margin, sign)),
        scale,
        differentiable_at: everywhere,
    }
}

/// Compares the autograd gradient of one side with the analytic gradient and with central
/// differences of the reference, both evaluated on the values rounded to the dtype.
fn check_side(
    side: &Side,
    tensors: &TensorBatch,
    autograd: &[f64],
    reduction: Reduction,
    tolerance: Tolerance,
    what: &str,
) {
    let reference = &tensors.reference;
    let analytic = reference.gradient(&side.derivative, side.scale, reduction);
    assert_close(autograd, &analytic, tolerance, &format!("{what}: analytic"));

    let loss_of = |x: &[f64]| {
        let moved = RefBatch {
            x: x.to_vec(),
            ..reference.clone()
        };
        side.scale * moved.reduce(&side.value, reduction)
    };
    let differences = central_difference(loss_of, &reference.x, STEP);
    let keep: Vec<usize> = (0..reference.x.len())
        .filter(|&i| (side.differentiable_at)(reference.x[i]))
        .collect();
    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let difference_tolerance = Tolerance::new(
        tolerance.relative.max(DIFFERENCE_TOLERANCE.relative),
        tolerance.absolute.max(DIFFERENCE_TOLERANCE.absolute),
    );
    assert_close(
        &pick(autograd),
        &pick(&differences),
        difference_tolerance,
        &format!("{what}: central differences"),
    );
}

type MakeDiscriminator =
    dyn Fn(Kernel, Reduction) -> gan_losses::Result<Box<dyn DiscriminatorLoss>>;
type MakeGenerator = dyn Fn(Kernel, Reduction) -> gan_losses::Result<Box<dyn GeneratorLoss>>;

fn check_discriminator(
    name: &str,
    make: &MakeDiscriminator,
    real: &Side,
    fake: &Side,
    dtypes: &[DType],
    device: &Device,
) -> TestResult {
    for &kernel in &KERNELS {
        for reduction in REDUCTIONS {
            let loss = make(kernel, reduction)?;
            for &dtype in dtypes {
                let real_tensors = TensorBatch::new(&real.batch, &REAL_SHAPE, dtype, device)?;
                let fake_tensors = TensorBatch::new(&fake.batch, &FAKE_SHAPE, dtype, device)?;
                let value =
                    loss.discriminator_loss_with(&real_tensors.batch(), &fake_tensors.batch())?;
                let grads = value.backward()?;
                let real_gradient = real_tensors.gradient(&grads)?;
                let fake_gradient = fake_tensors.gradient(&grads)?;
                assert_eq!(
                    grads
                        .get(real_tensors.logits.as_tensor())
                        .map(|g| g.dtype()),
                    Some(dtype),
                    "{name}: gradient dtype"
                );
                let what = format!("{name} {kernel:?} {reduction:?} {dtype:?}");
                let tolerance = Tolerance::for_dtype(dtype);
                check_side(
                    real,
                    &real_tensors,
                    &real_gradient,
                    reduction,
                    tolerance,
                    &format!("{what} real"),
                );
                check_side(
                    fake,
                    &fake_tensors,
                    &fake_gradient,
                    reduction,
                    tolerance,
                    &format!("{what} fake"),
                );
            }
        }
    }
    Ok(())
}

fn check_generator(
    name: &str,
    make: &MakeGenerator,
    fake: &Side,
    dtypes: &[DType],
    device: &Device,
) -> TestResult {
    for &kernel in &KERNELS {
        for reduction in REDUCTIONS {
            let loss = make(kernel, reduction)?;
            for &dtype in dtypes {
                let tensors = TensorBatch::new(&fake.batch, &FAKE_SHAPE, dtype, device)?;
                let value = loss.generator_loss_with(None, &tensors.batch())?;
                let gradient = tensors.gradient(&value.backward()?)?;
                let what = format!("{name} {kernel:?} {reduction:?} {dtype:?}");
                let tolerance = Tolerance::for_dtype(dtype);
                check_side(fake, &tensors, &gradient, reduction, tolerance, &what);
            }
        }
    }
    Ok(())
}

fn real_logits() -> RefBatch {
    RefBatch::plain(logits(12, 1))
}

fn fake_logits() -> RefBatch {
    RefBatch::plain(logits(8, 2))
}

fn bce_hard_labels(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = BceConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction);
        Ok(Box::new(config.build()?))
    };
    let real = bce_side(real_logits(), 1.0, 1.0);
    let fake = bce_side(fake_logits(), 0.0, 1.0);
    check_discriminator("hard labels", make, &real, &fake, &DTYPES, device)
}

fn bce_label_smoothing(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = BceConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction)
            .with_label_smoothing(0.1);
        Ok(Box::new(config.build()?))
    };
    let real = bce_side(real_logits(), 0.9, 1.0);
    let fake = bce_side(fake_logits(), 0.0, 1.0);
    check_discriminator("smoothing", make, &real, &fake, &DTYPES, device)
}

fn bce_explicit_targets(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = BceConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction)
            .with_targets(0.8, 0.1);
        Ok(Box::new(config.build()?))
    };
    let real = bce_side(real_logits(), 0.8, 1.0);
    let fake = bce_side(fake_logits(), 0.1, 1.0);
    check_discriminator("explicit targets", make, &real, &fake, &DTYPES, device)
}

fn bce_weights_and_mask(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = BceConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction);
        Ok(Box::new(config.build()?))
    };
    let mut real_batch = real_logits();
    real_batch.weights = Some(sample_weights(12, 1));
    real_batch.mask = Some(sample_mask(12, 0));
    let mut fake_batch = fake_logits();
    fake_batch.weights = Some(sample_weights(8, 2));
    let real = bce_side(real_batch, 1.0, 1.0);
    let fake = bce_side(fake_batch, 0.0, 1.0);
    check_discriminator("weights and mask", make, &real, &fake, &DTYPES, device)
}

fn weighted_bce(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = BceConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction)
            .with_group_weights(2.0, 0.5);
        Ok(Box::new(WeightedBceLoss::from_config(config)?))
    };
    let real = bce_side(real_logits(), 1.0, 2.0);
    let fake = bce_side(fake_logits(), 0.0, 0.5);
    check_discriminator("weighted", make, &real, &fake, &DTYPES, device)
}

fn bce_probabilities(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = BceConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction)
            .with_input(Input::Probabilities)
            .with_label_smoothing(0.2);
        Ok(Box::new(config.build()?))
    };
    let mut real_batch = RefBatch::plain(probabilities(12, 1));
    real_batch.weights = Some(sample_weights(12, 3));
    let real = probability_side(real_batch, 0.8, 1.0);
    let fake = probability_side(RefBatch::plain(probabilities(8, 2)), 0.0, 1.0);
    // The derivative at p = 0 or 1 is about 1e12, beyond the range of f16.
    let dtypes = [DType::F32, DType::F64];
    check_discriminator("probabilities", make, &real, &fake, &dtypes, device)
}

fn hinge_margins(device: &Device) -> TestResult {
    let make: &MakeDiscriminator = &|kernel, reduction| {
        let config = HingeConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction)
            .with_margins(1.5, 0.5)
            .with_group_weights(1.0, 2.0);
        Ok(Box::new(config.build()?))
    };
    let mut real_batch = real_logits();
    real_batch.weights = Some(sample_weights(12, 4));
    let mut fake_batch = fake_logits();
    fake_batch.mask = Some(sample_mask(8, 1));
    let real = hinge_side(real_batch, 1.5, 1.0, 1.0);
    let fake = hinge_side(fake_batch, 0.5, -1.0, 2.0);
    check_discriminator("hinge", make, &real, &fake, &DTYPES, device)
}

fn bce_generator(device: &Device) -> TestResult {
    for input in [Input::Logits, Input::Probabilities] {
        for form in [GeneratorForm::NonSaturating, GeneratorForm::Saturating] {
            let make: &MakeGenerator = &move |kernel, reduction| {
                let config = BceConfig::default()
                    .with_kernel(kernel)
                    .with_reduction(reduction)
                    .with_input(input)
                    .with_generator(form)
                    .with_label_smoothing(0.3);
                Ok(Box::new(config.build()?))
            };
            let (target, scale) = match form {
                GeneratorForm::NonSaturating => (1.0, 1.0),
                GeneratorForm::Saturating => (0.0, -1.0),
            };
            let mut batch = match input {
                Input::Logits => fake_logits(),
                Input::Probabilities => RefBatch::plain(probabilities(8, 3)),
            };
            batch.weights = Some(sample_weights(8, 5));
            batch.mask = Some(sample_mask(8, 2));
            let (side, dtypes): (Side, &[DType]) = match input {
                Input::Logits => (bce_side(batch, target, scale), &DTYPES),
                Input::Probabilities => (
                    probability_side(batch, target, scale),
                    &[DType::F32, DType::F64],
                ),
            };
            let name = format!("{input:?} {form:?}");
            check_generator(&name, make, &side, dtypes, device)?;
        }
    }
    Ok(())
}

fn hinge_generator(device: &Device) -> TestResult {
    let make: &MakeGenerator = &|kernel, reduction| {
        let config = HingeConfig::default()
            .with_kernel(kernel)
            .with_reduction(reduction)
            .with_margin(2.0);
        Ok(Box::new(config.build()?))
    };
    let mut batch = fake_logits();
    batch.weights = Some(sample_weights(8, 6));
    let side = Side {
        batch,
        value: Box::new(|x| -x),
        derivative: Box::new(|_| -1.0),
        scale: 1.0,
        differentiable_at: everywhere,
    };
    check_generator("hinge generator", make, &side, &DTYPES, device)
}

device_tests!(
    bce_hard_labels,
    bce_label_smoothing,
    bce_explicit_targets,
    bce_weights_and_mask,
    weighted_bce,
    bce_probabilities,
    hinge_margins,
    bce_generator,
    hinge_generator,
);
