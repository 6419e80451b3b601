//! Fused CPU kernels against plain candle ops, through the public loss API, next to memory
//! bandwidth baselines over the same bytes.
//!
//! Measured, for N logits per batch (real and fake each N, so 2N logits per call), N = 1e3, 1e5,
//! 1e6 and 1e7, in f32 and bf16:
//! - `bce_forward`: `BceLoss` discriminator loss, forward only;
//! - `bce_forward_backward`: the same followed by `backward()` on Vars, which includes candle's
//!   gradient-store accumulation (a zero tensor plus an add per logits tensor);
//! - `weighted_bce_forward_backward`: `WeightedBceLoss` (2, 1) with per-sample weights on both
//!   batches;
//! - `hinge_forward_backward`: `HingeLoss`;
//! - `bandwidth`: reading the 2N logits once (`read`), and reading them while writing 2N
//!   values of the same dtype into a preallocated buffer (`read_write`), with rayon;
//! - `candle_grad_store`: what candle's `backward()` does with each logits gradient that a
//!   custom op returns: `zeros_like` then `add`, for both batches. No kernel can avoid it, so
//!   it bounds every forward+backward row from below.
//!
//! Each kernel runs as `fused` (the default) and as `plain` (`Kernel::Plain`); plain is
//! measured up to N = 1e6 only, because at 1e7 one call takes about a second. Throughput is the
//! bytes of the 2N logits, so every row of one N and dtype compares with the bandwidth rows.
//!
//! Run: `CANDLE_GRAD_DO_NOT_DETACH=0 cargo bench --bench fused` (or `python3 scripts/bench.py`,
//! which also writes BENCHMARKS.md). The variable overrides `.cargo/config.toml`, which turns
//! on candle's double backward for the penalty tests. Thread count: `RAYON_NUM_THREADS`.
//! `GAN_BENCH_SIZES=1000,100000` limits the sizes, which `scripts/bench.py` uses to run each
//! size in its own process.

use std::hint::black_box;
use std::time::Duration;

use candle_core::{DType, Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gan_losses::{
    Batch, BceConfig, BceLoss, DiscriminatorLoss, HingeConfig, HingeLoss, Kernel, WeightedBceLoss,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 4] = [1_000, 100_000, 1_000_000, 10_000_000];
const PLAIN_MAX: usize = 1_000_000;
const DTYPES: [DType; 2] = [DType::F32, DType::BF16];

/// Logits, weights and Vars of one size and dtype.
struct Inputs {
    real: Var,
    fake: Var,
    real_weights: Tensor,
    fake_weights: Tensor,
}

fn random_tensor(rng: &mut ChaCha8Rng, n: usize, low: f32, high: f32, dtype: DType) -> Tensor {
    let data: Vec<f32> = (0..n).map(|_| rng.random_range(low..high)).collect();
    Tensor::from_vec(data, n, &Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .expect("tensor")
}

fn inputs(n: usize, dtype: DType) -> Inputs {
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let real = random_tensor(&mut rng, n, -4.0, 4.0, dtype);
    let fake = random_tensor(&mut rng, n, -4.0, 4.0, dtype);
    Inputs {
        real: Var::from_tensor(&real).expect("var"),
        fake: Var::from_tensor(&fake).expect("var"),
        real_weights: random_tensor(&mut rng, n, 0.0, 2.0, dtype),
        fake_weights: random_tensor(&mut rng, n, 0.0, 2.0, dtype),
    }
}

fn configure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
) {
    if n >= 1_000_000 {
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(3));
    } else {
        group.sample_size(30);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
    }
}

fn kernels(n: usize) -> Vec<Kernel> {
    if n <= PLAIN_MAX {
        vec![Kernel::Fused, Kernel::Plain]
    } else {
        vec![Kernel::Fused]
    }
}

fn name(kernel: Kernel, dtype: DType) -> String {
    let kernel = match kernel {
        Kernel::Fused => "fused",
        _ => "plain",
    };
    format!("{kernel}_{}", dtype.as_str())
}

/// The sizes to run: `GAN_BENCH_SIZES` (comma-separated) or all of [`SIZES`].
fn sizes() -> Vec<usize> {
    match std::env::var("GAN_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|size| {
                size.trim()
                    .parse()
                    .expect("GAN_BENCH_SIZES: comma-separated integers")
            })
            .collect(),
        Err(_) => SIZES.to_vec(),
    }
}

fn losses(c: &mut Criterion) {
    for n in sizes() {
        for dtype in DTYPES {
            let data = inputs(n, dtype);
            let bytes = (2 * n * dtype.size_in_bytes()) as u64;
            let real = data.real.as_tensor();
            let fake = data.fake.as_tensor();

            for (group_name, backward) in [("bce_forward", false), ("bce_forward_backward", true)] {
                let mut group = c.benchmark_group(group_name);
                configure(&mut group, n);
                group.throughput(Throughput::Bytes(bytes));
                for kernel in kernels(n) {
                    let loss: BceLoss = BceConfig::default()
                        .with_kernel(kernel)
                        .build()
                        .expect("valid options");
                    group.bench_function(BenchmarkId::new(name(kernel, dtype), n), |b| {
                        b.iter(|| {
                            let value = loss.discriminator_loss(real, fake).expect("loss");
                            if backward {
                                black_box(value.backward().expect("backward"));
                            } else {
                                black_box(value);
                            }
                        })
                    });
                }
                group.finish();
            }

            let mut group = c.benchmark_group("weighted_bce_forward_backward");
            configure(&mut group, n);
            group.throughput(Throughput::Bytes(bytes));
            for kernel in kernels(n) {
                let config = BceConfig::default()
                    .with_group_weights(2.0, 1.0)
                    .with_kernel(kernel);
                let loss = WeightedBceLoss::from_config(config).expect("valid options");
                let real_batch = Batch::new(real).with_weights(&data.real_weights);
                let fake_batch = Batch::new(fake).with_weights(&data.fake_weights);
                group.bench_function(BenchmarkId::new(name(kernel, dtype), n), |b| {
                    b.iter(|| {
                        let value = loss
                            .discriminator_loss_with(&real_batch, &fake_batch)
                            .expect("loss");
                        black_box(value.backward().expect("backward"));
                    })
                });
            }
            group.finish();

            let mut group = c.benchmark_group("hinge_forward_backward");
            configure(&mut group, n);
            group.throughput(Throughput::Bytes(bytes));
            for kernel in kernels(n) {
                let loss: HingeLoss = HingeConfig::default()
                    .with_kernel(kernel)
                    .build()
                    .expect("valid options");
                group.bench_function(BenchmarkId::new(name(kernel, dtype), n), |b| {
                    b.iter(|| {
                        let value = loss.discriminator_loss(real, fake).expect("loss");
                        black_box(value.backward().expect("backward"));
                    })
                });
            }
            group.finish();

            bandwidth(c, n, dtype);
            grad_store(c, n, dtype, &data);
        }
    }
}

/// Reads (and writes) 2N elements of `dtype`'s size as integers, in parallel chunks.
fn bandwidth(c: &mut Criterion, n: usize, dtype: DType) {
    let mut group = c.benchmark_group("bandwidth");
    configure(&mut group, n);
    let bytes = 2 * n * dtype.size_in_bytes();
    group.throughput(Throughput::Bytes(bytes as u64));
    let chunk = 1 << 16;

    // u16 for bf16, u32 for f32: XOR folds vectorise, so the loop is limited by memory.
    macro_rules! run {
        ($t:ty) => {{
            let source: Vec<$t> = (0..bytes / std::mem::size_of::<$t>())
                .map(|i| i as $t)
                .collect();
            let mut target: Vec<$t> = vec![0; source.len()];
            group.bench_function(
                BenchmarkId::new(format!("read_{}", dtype.as_str()), n),
                |b| {
                    b.iter(|| {
                        let folded = source
                            .par_chunks(chunk)
                            .map(|block| block.iter().fold(0, |a, &v| a ^ v))
                            .reduce(|| 0, |a, b| a ^ b);
                        black_box(folded)
                    })
                },
            );
            group.bench_function(
                BenchmarkId::new(format!("read_write_{}", dtype.as_str()), n),
                |b| {
                    b.iter(|| {
                        target
                            .par_chunks_mut(chunk)
                            .zip(source.par_chunks(chunk))
                            .for_each(|(out, block)| out.copy_from_slice(block));
                        black_box(&target);
                    })
                },
            );
        }};
    }
    if dtype.size_in_bytes() == 2 {
        run!(u16)
    } else {
        run!(u32)
    }
    group.finish();
}

/// candle's gradient accumulation for two gradients of N elements: zeros, then an add.
fn grad_store(c: &mut Criterion, n: usize, dtype: DType, data: &Inputs) {
    let mut group = c.benchmark_group("candle_grad_store");
    configure(&mut group, n);
    group.throughput(Throughput::Bytes((2 * n * dtype.size_in_bytes()) as u64));
    let gradients = [data.real.as_tensor(), data.fake.as_tensor()];
    group.bench_function(BenchmarkId::new(dtype.as_str(), n), |b| {
        b.iter(|| {
            for gradient in gradients {
                let sum = gradient
                    .zeros_like()
                    .and_then(|zeros| zeros.add(gradient))
                    .expect("add");
                black_box(sum);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, losses);
criterion_main!(benches);
