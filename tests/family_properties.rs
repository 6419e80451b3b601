//! Properties every loss of the family holds, for random finite outputs.

mod reference;

use gan_losses::{AnyLoss, Batch, DiscriminatorLoss, GeneratorLoss, Kernel, LossConfig, Reduction};
use proptest::prelude::*;
use reference::{scalar, tensor};

/// Sets the reduction and the kernel of any configuration.
fn configure(config: LossConfig, reduction: Reduction, kernel: Kernel) -> LossConfig {
    match config {
        LossConfig::Bce(c) | LossConfig::WeightedBce(c) => {
            let c = c.with_reduction(reduction).with_kernel(kernel);
            match config {
                LossConfig::Bce(_) => LossConfig::Bce(c),
                _ => LossConfig::WeightedBce(c),
            }
        }
        LossConfig::Hinge(c) => LossConfig::Hinge(c.with_reduction(reduction).with_kernel(kernel)),
        LossConfig::LeastSquares(c) => {
            LossConfig::LeastSquares(c.with_reduction(reduction).with_kernel(kernel))
        }
        LossConfig::Wasserstein(c) => {
            LossConfig::Wasserstein(c.with_reduction(reduction).with_kernel(kernel))
        }
        LossConfig::Rsgan(c) => LossConfig::Rsgan(c.with_reduction(reduction).with_kernel(kernel)),
        LossConfig::RaSgan(c) => {
            LossConfig::RaSgan(c.with_reduction(reduction).with_kernel(kernel))
        }
        LossConfig::RaLsgan(c) => {
            LossConfig::RaLsgan(c.with_reduction(reduction).with_kernel(kernel))
        }
        LossConfig::RaHinge(c) => {
            LossConfig::RaHinge(c.with_reduction(reduction).with_kernel(kernel))
        }
        other => panic!("a variant this test does not know: {other:?}"),
    }
}

fn build(name: &str, reduction: Reduction, kernel: Kernel) -> AnyLoss {
    let config: LossConfig = name.parse().unwrap();
    configure(config, reduction, kernel).build().unwrap()
}

/// D and G values of a loss on two batches.
fn values(loss: &AnyLoss, real: &Batch<'_>, fake: &Batch<'_>) -> (f64, f64) {
    let d = scalar(&loss.discriminator_loss_with(real, fake).unwrap());
    let g = scalar(&loss.generator_loss_with(Some(real), fake).unwrap());
    (d, g)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// Two equal-sized batches of finite outputs and positive weights.
fn pair_of_batches() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>)> {
    (1usize..8).prop_flat_map(|n| {
        (
            prop::collection::vec(-60.0f64..60.0, n),
            prop::collection::vec(-60.0f64..60.0, n),
            prop::collection::vec(0.0f64..3.0, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn finite_for_finite_input((r, f, w) in pair_of_batches()) {
        let n = r.len();
        let (real, fake, weights) = (tensor(&r, &[n, 1]), tensor(&f, &[n, 1]), tensor(&w, &[n, 1]));
        for name in LossConfig::NAMES {
            let loss = build(name, Reduction::Mean, Kernel::Fused);
            let fake_batch = Batch::new(&fake).with_weights(&weights);
            let (d, g) = values(&loss, &Batch::new(&real), &fake_batch);
            prop_assert!(d.is_finite(), "{} D = {}", name, d);
            prop_assert!(g.is_finite(), "{} G = {}", name, g);
        }
    }

    #[test]
    fn unit_weights_equal_unweighted((r, f, _) in pair_of_batches()) {
        let n = r.len();
        let (real, fake) = (tensor(&r, &[n]), tensor(&f, &[n]));
        let ones = tensor(&vec![1.0; n], &[n]);
        for name in LossConfig::NAMES {
            let loss = build(name, Reduction::Mean, Kernel::Fused);
            let plain = values(&loss, &Batch::new(&real), &Batch::new(&fake));
            let weighted = values(
                &loss,
                &Batch::new(&real).with_weights(&ones),
                &Batch::new(&fake).with_weights(&ones),
            );
            let masked = values(
                &loss,
                &Batch::new(&real).with_mask(&ones),
                &Batch::new(&fake).with_mask(&ones),
            );
            prop_assert!(close(plain.0, weighted.0), "{} D {} vs {}", name, plain.0, weighted.0);
            prop_assert!(close(plain.1, weighted.1), "{} G {} vs {}", name, plain.1, weighted.1);
            prop_assert!(close(plain.0, masked.0), "{} D {} vs masked {}", name, plain.0, masked.0);
            prop_assert!(close(plain.1, masked.1), "{} G {} vs masked {}", name, plain.1, masked.1);
        }
    }

    #[test]
    fn sum_is_mean_times_count((r, f, w) in pair_of_batches()) {
        let n = r.len();
        let (real, fake, weights) = (tensor(&r, &[n, 1]), tensor(&f, &[n, 1]), tensor(&w, &[n, 1]));
        let real_batch = Batch::new(&real).with_weights(&weights);
        let fake_batch = Batch::new(&fake);
        for name in LossConfig::NAMES {
            let mean_loss = build(name, Reduction::Mean, Kernel::Fused);
            let sum_loss = build(name, Reduction::Sum, Kernel::Fused);
            let mean = values(&mean_loss, &real_batch, &fake_batch);
            let sum = values(&sum_loss, &real_batch, &fake_batch);
            let count = n as f64;
            prop_assert!(close(sum.0, count * mean.0), "{} D sum {} mean {}", name, sum.0, mean.0);
            prop_assert!(close(sum.1, count * mean.1), "{} G sum {} mean {}", name, sum.1, mean.1);
        }
    }

    #[test]
    fn fused_kernel_equals_plain((r, f, w) in pair_of_batches()) {
        let n = r.len();
        let (real, fake, weights) = (tensor(&r, &[n]), tensor(&f, &[n]), tensor(&w, &[n]));
        let real_batch = Batch::new(&real);
        let fake_batch = Batch::new(&fake).with_weights(&weights);
        for name in LossConfig::NAMES {
            for reduction in [Reduction::Mean, Reduction::Sum] {
                let fused_loss = build(name, reduction, Kernel::Fused);
                let plain_loss = build(name, reduction, Kernel::Plain);
                let fused = values(&fused_loss, &real_batch, &fake_batch);
                let plain = values(&plain_loss, &real_batch, &fake_batch);
                prop_assert!(close(fused.0, plain.0), "{} D {} vs {}", name, fused.0, plain.0);
                prop_assert!(close(fused.1, plain.1), "{} G {} vs {}", name, fused.1, plain.1);
            }
        }
    }
}
