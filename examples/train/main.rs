//! Trains a GAN end to end with the losses of `gan_losses`, then scores and draws the result.
//!
//! ```text
//! cargo run --release --example train                           # ring, bce, quick protocol
//! cargo run --release --example train -- --dataset grid --loss hinge
//! cargo run --release --example train -- --loss wgan --gp-lambda 10
//! cargo run --release --example train -- --loss ra-hinge --r1-gamma 1 --r1-interval 4
//! cargo run --release --example train -- --loss hinge --r2-gamma 1
//! cargo run --release --example train -- --loss bce --dragan-lambda 10
//! cargo run --release --example train -- --dataset digits --iterations 3000
//! cargo run --release --example train -- --protocol veegan --dataset grid
//! ```
//!
//! # What it trains
//! A generator G (a multilayer perceptron from Gaussian noise to samples) against a
//! discriminator D (a multilayer perceptron from samples to one logit) on one of three datasets:
//!
//! - `ring`: 8 Gaussians evenly spaced on the circle of radius 1, standard deviation 0.01, the
//!   2-D ring of PacGAN (Lin, Khetan, Fanti and Oh, "PacGAN: The power of two samples in
//!   generative adversarial networks", NeurIPS 2018).
//! - `grid`: 25 Gaussians at {−4, −2, 0, 2, 4}², standard deviation 0.05, PacGAN's 2-D grid.
//! - `digits`: the 1,797 real 8×8 handwritten digits of `examples/data/digits.csv.gz` (UCI
//!   dataset 80, CC BY 4.0, see `examples/data/README.md`), pixels scaled from 0..16 to
//!   [−1, 1]; the generator's output goes through tanh.
//!
//! Each iteration draws a real batch and a noise batch, takes one discriminator step on the real
//! batch and the detached fake batch, then one generator step on the same fake batch through the
//! updated discriminator. Both networks use Adam (candle_nn's `AdamW` with weight decay 0,
//! β2 = 0.999, ε = 10⁻⁸). All randomness (parameters, noise, data, shuffling) comes from one
//! ChaCha8 generator seeded by `--seed`, so a run on one machine and thread count repeats
//! exactly. Linear layers start as PyTorch's `nn.Linear` does: weight and bias uniform in
//! ±1/√fan_in.
//!
//! # Flags
//! - `--dataset ring|grid|digits` (default `ring`).
//! - `--loss NAME` (default `bce`): any name that `gan_losses::LossConfig` parses, with the
//!   library's default options. `--help` lists the canonical names, and aliases such as
//!   `minimax` or `least-squares` work too. With r = D(x) and f = D(G(z)):
//!   - `bce`: the minimax discriminator loss mean softplus(−r) + mean softplus(f) with the
//!     non-saturating generator loss mean softplus(−f) = −mean ln σ(f).
//!   - `saturating`: the same discriminator loss, generator loss −mean softplus(f) =
//!     mean ln(1 − σ(f)).
//!   - `weighted-bce`: `bce` with the real and the fake term of the discriminator loss multiplied
//!     by `--real-weight` and `--fake-weight` (default 1 each; rejected with the other losses);
//!     the generator loss is the unweighted non-saturating one.
//!   - `hinge`: mean relu(1 − r) + mean relu(1 + f), generator loss −mean f.
//!   - `lsgan`: ½·mean (r − 1)² + ½·mean f², generator loss ½·mean (f − 1)².
//!   - `wgan`: the critic loss mean f − mean r, generator loss −mean f. Nothing keeps the
//!     critic Lipschitz unless `--gp-lambda` is set.
//!   - `rsgan`, `rasgan`, `ralsgan`, `ra-hinge`: the relativistic losses, which compare r − f
//!     pairwise (`rsgan`) or r − mean f and f − mean r (the others). Their generator losses read
//!     the real outputs too, so the generator step also passes the real batch through the
//!     discriminator with its parameters detached.
//! - `--r1-gamma γ` (default 0, off): adds R1 = (γ/2)·mean ‖∇ₓD(x)‖² over the real batch to the
//!   discriminator loss (Mescheder, Geiger and Nowozin, ICML 2018).
//! - `--r1-interval k` (needs `--r1-gamma`): lazy R1 (Karras et al., CVPR 2020): every k
//!   iterations, starting with the first, one extra discriminator step on k·R1 after the loss
//!   step, and the discriminator's Adam runs with learning rate lr·c and β1ᶜ, β2ᶜ,
//!   c = k/(k + 1), because it takes k + 1 steps where it would take k.
//! - `--r2-gamma γ` (default 0, off): adds R2 = (γ/2)·mean ‖∇ₓD(x)‖² over the detached fake
//!   batch to the discriminator loss (Mescheder, Geiger and Nowozin, ICML 2018).
//! - `--gp-lambda λ` (default 0, off): adds the WGAN-GP penalty λ·mean (‖∇ₓD(x̂)‖ − 1)² at
//!   interpolates x̂ = α·x + (1 − α)·G(z), α uniform per sample, to the discriminator loss
//!   (Gulrajani et al., NeurIPS 2017). The α of each step are drawn from a seed taken from the
//!   run's generator.
//! - `--dragan-lambda λ` (default 0, off): adds the DRAGAN penalty λ·mean (‖∇ₓD(x̃)‖ − 1)² at
//!   perturbed real samples x̃ = x + ½·std(x)·u, u uniform in [0, 1) per element and std over
//!   the whole batch, to the discriminator loss (Kodali et al., 2017). The u of each step are
//!   drawn from a seed taken from the run's generator, after the seed of WGAN-GP.
//! - `--lecam-weight λ` (default 0, off): adds the LeCam regulariser
//!   λ·[mean relu(D(x) − α_F)² + mean relu(α_R − D(G(z)))²] to the discriminator loss, with α_R
//!   and α_F moving averages (decay 0.99) of D's outputs on real and fake samples (Tseng et al.,
//!   CVPR 2021). It reads D's outputs only, so it needs no double backward.
//!
//!   Every penalty differentiates the input gradient ∇ₓD a second time, which candle 0.11
//!   computes only when `CANDLE_GRAD_DO_NOT_DETACH` is set at a thread's first backward, so
//!   the example sets it to 1 when it starts. Each penalty adds a discriminator pass and a
//!   double backward to every step where it runs. The exact R1 gradient through the ReLU and
//!   the maxout discriminators matches a central difference of R1 in the example's tests.
//!   On the machine described under Protocols, while other jobs shared it, full quick runs
//!   took 5.9 ms an iteration with `--loss wgan --gp-lambda 10`, 6.2 ms with `--loss hinge
//!   --r1-gamma 1` and 4.5 ms with R1 every 4 iterations, against 3.9 ms for hinge alone.
//!   Keeping the graph of gradients did not slow runs without a penalty measurably (bce,
//!   3,000 iterations: 4.0 to 4.1 ms an iteration with the variable, 3.7 to 4.0 ms without).
//! - `--protocol quick|veegan|pacgan` (default `quick`): the architecture, optimiser, batch size
//!   and iteration count, below.
//! - `--iterations N`, `--batch-size N`, `--learning-rate LR`: override the protocol's values.
//! - `--seed N` (default 0).
//! - `--out DIR` (default `out/train`), created if missing.
//!
//! One thread computes faster than two at these sizes, so the example sets `RAYON_NUM_THREADS=1`
//! unless the variable is already set. On the machine described under Protocols, while other
//! jobs shared it, 1,500 quick iterations took 3.1 to 5.5 ms each on one thread and 19 to 27 ms
//! on two.
//!
//! # Output
//! A progress bar with the live D and G losses, and about ten lines during training with the
//! figures of `discriminator_summary`: D(x) and D(G(z)) (σ of the logit for the BCE losses and
//! `rsgan`, the raw output for hinge, lsgan and wgan, the relative outputs r − mean f and
//! f − mean r for the relativistic average losses), the real and fake accuracy and each term
//! of the discriminator loss, then the last R1, R2, WGAN-GP (`GP`) and DRAGAN values when those
//! are on and the generator loss. The D losses shown and plotted leave out the penalties.
//! Under `--out`:
//!
//! - `metrics.json`: the settings (dataset, canonical loss name, weights, `r1_gamma`,
//!   `r1_interval`, `r2_gamma`, `gp_lambda`, `dragan_lambda`, `lecam_weight`, protocol,
//!   iterations, batch size,
//!   seed, noise dimension, learning rate, β1, evaluation sample count, threshold), the last
//!   monitoring figures with `r1_penalty`, `r2_penalty`, `gp_penalty`, `dragan_penalty` and
//!   `lecam_penalty` when
//!   those are on, and the training time; for ring and grid also `modes_captured`,
//!   `high_quality_fraction`, `reverse_kl` and the high-quality count per mode.
//! - `losses.png`: D and G loss per iteration and their moving average.
//! - `samples.png` (ring, grid): 2,500 generated samples over the mode centres, each centre
//!   circled at the threshold; `digits.png` (digits): 100 generated digits.
//!
//! # Evaluation (ring and grid)
//! As in PacGAN: 2,500 generated samples, each assigned to its nearest mode centre and called
//! high quality when within 3 standard deviations of it (0.03 on the ring, 0.15 on the grid).
//! `modes_captured` counts the modes with at least one high-quality sample;
//! `high_quality_fraction` is the share of high-quality samples among all 2,500; `reverse_kl`
//! is KL(p ‖ u) = Σ_k p_k ln(p_k · K) in nats, from the histogram p of the high-quality samples
//! over the K modes to the uniform u. Modes with p_k = 0 contribute 0 (the limit of p ln p), so
//! a run that captures one mode scores ln K; with no high-quality sample p is undefined and
//! `reverse_kl` is `null`.
//!
//! # Protocols
//! - `quick` (default): noise 16-d; G and D with 2 hidden layers of 128 ReLU units; Adam
//!   lr 10⁻³, β1 0.5; batch 256; fresh data every batch; 8,000 iterations. Measured with bce
//!   on the ring on a 2-core AMD EPYC virtual machine shared with other jobs: 31 to 40 s of
//!   training (3.9 to 5 ms an iteration); seed 0 captures 8 of 8 modes with 79% high-quality
//!   samples, seeds 1, 2 and 3 capture 7, 8 and 7 modes. Longer runs at this learning rate
//!   do not score better, because the generator keeps moving between modes.
//!   Other losses with seed 0 on the ring, in modes captured and high-quality share, measured
//!   with an earlier build whose plain candle kernels round differently (so a rerun follows
//!   another trajectory and can score differently): hinge
//!   8/8 and 61%, with `--r1-gamma 1` 8/8 and 66%; lsgan 6/8 and 58%; wgan 6/8 and 7%, with
//!   `--gp-lambda 10` 8/8 and 14%; ra-hinge 1/8 and 70% (seeds 1 and 2: 8/8 and 76%, 1/8
//!   and 99%), with `--r1-gamma 1` 8/8 and 74%.
//!   Runs of 3,000 iterations with seed 0 on the ring: hinge 1/8 and 2% (3.2 ms an iteration),
//!   with `--r2-gamma 1` 8/8 and 10% (6.2 ms); bce 6/8 and 5% (3.1 ms), with
//!   `--dragan-lambda 1` 8/8 and 33% (5.0 ms), with `--dragan-lambda 10` 0/8 (5.2 ms, and 0/8
//!   with seed 1 too): the generator collapses to one small region inside the ring. On the ring the
//!   DRAGAN perturbation ½·std(x)·u reaches about 0.35, almost half the 0.77 between
//!   neighbouring modes.
//! - `veegan`, the setup of the 2-D tables of VEEGAN (Srivastava et al., NeurIPS 2017) and GDPP
//!   (Elfeki et al., ICML 2019): noise 256-d; G and D with 2 hidden layers of 128 ReLU units;
//!   Adam lr 10⁻³, β1 0.5; batch 500; fresh data every batch; 100,000 iterations. On the
//!   machine above the full ring run with bce and seed 0 took 17.4 minutes (10.4 ms an
//!   iteration) and captured 4 of 8 modes with 98% high-quality samples.
//! - `pacgan`, the setup of PacGAN's 2-D tables: noise 2-d; G with 4 hidden layers of 400 units,
//!   batch normalisation and ReLU; D with 3 maxout layers of 200 units and 5 pieces; Adam
//!   lr 10⁻⁴, β1 0.8; batch 100; 100,000 training samples drawn once and reshuffled every
//!   epoch; 400 epochs (400,000 iterations); the non-saturating generator loss (`--loss bce`).
//!   About 28 ms an iteration on the machine above, so an estimated 3 hours in all: use
//!   `--iterations` for a shorter run.
//!
//! Deviations from the papers:
//! - The ring and grid above serve every protocol.
//! - D sees one sample at a time, so `pacgan` runs the unpacked GAN of PacGAN's tables. Packing
//!   is not implemented.
//! - Batch normalisation always uses the statistics of the current batch, also for the 2,500
//!   evaluation samples, and keeps no running averages.
//! - Layers start as PyTorch's `nn.Linear` does, which the papers may not share.
//! - Adam's β2 and ε, which the protocols above leave open, are the usual 0.999 and 10⁻⁸.

mod canvas;
mod data;
mod losses;
mod metrics;
mod model;
mod penalties;
mod plot;
mod protocol;
mod report;
mod train;

use std::error::Error;
use std::path::PathBuf;

use candle_core::Device;
use clap::Parser;
use gan_losses::LossConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{Dataset, Sampler};
use crate::losses::LossParser;
use crate::model::{Discriminator, Generator};
use crate::penalties::{Penalties, PenaltyOptions};
use crate::protocol::{DataSchedule, Protocol};
use crate::train::Trainer;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Text after the flags in `--help`.
const AFTER_HELP: &str = "\
Protocols:
  quick   noise 16-d; G, D: 2 hidden layers of 128 ReLU units; Adam lr 1e-3, beta1 0.5;
          batch 256; fresh data every batch; 8,000 iterations.
  veegan  VEEGAN and GDPP 2-D tables: noise 256-d; G, D: 2 hidden layers of 128 ReLU units;
          Adam lr 1e-3, beta1 0.5; batch 500; fresh data every batch; 100,000 iterations.
  pacgan  PacGAN 2-D tables: noise 2-d; G: 4 hidden layers of 400 units with batch norm and
          ReLU; D: 3 maxout layers of 200 units, 5 pieces; Adam lr 1e-4, beta1 0.8; batch 100;
          100,000 fixed training samples, 400 epochs (400,000 iterations).
  Deviations: the ring and grid above serve every protocol; pacgan is not packed (D sees one
  sample at a time); batch norm always uses the current batch's statistics; layers start as
  PyTorch's nn.Linear; Adam beta2 0.999 and eps 1e-8 throughout.

Evaluation (ring, grid): 2,500 samples, each assigned to its nearest mode and high quality
within 3 std of it (0.03 on the ring, 0.15 on the grid). reverse_kl = KL(p || uniform) =
sum over modes with p > 0 of p ln(p K), p the mode histogram of the high-quality samples.

LeCam (--lecam-weight) regularises D's outputs with moving averages of them.
Penalties (--r1-gamma, --r2-gamma, --gp-lambda, --dragan-lambda) differentiate the input
gradient of D a second time; the example sets CANDLE_GRAD_DO_NOT_DETACH=1 at start, which
candle 0.11 needs for that.

Outputs in --out: metrics.json, losses.png, and samples.png (ring, grid) or digits.png.
RAYON_NUM_THREADS defaults to 1 here, which is faster than 2 at these sizes.";

/// Train a GAN with the losses of gan_losses on a 2-D mixture or on 8x8 digits, then write
/// metrics.json and PNG figures.
#[derive(Debug, Parser)]
#[command(name = "train", after_help = AFTER_HELP)]
struct Args {
    /// Training data.
    #[arg(long, value_enum, default_value_t = Dataset::Ring)]
    dataset: Dataset,

    /// Loss of both networks: one of the possible values or an alias that
    /// gan_losses::LossConfig accepts, such as minimax, least-squares or wasserstein.
    #[arg(long, value_parser = LossParser, default_value = "bce")]
    loss: LossConfig,

    /// Factor on the real term of the discriminator loss (weighted-bce only) [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    real_weight: Option<f64>,

    /// Factor on the fake term of the discriminator loss (weighted-bce only) [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    fake_weight: Option<f64>,

    /// γ of the R1 penalty (γ/2)·mean |grad_x D(x)|² on the real batch, added to the
    /// discriminator loss; 0 turns it off.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    r1_gamma: f64,

    /// Apply R1 only every k iterations, as its own discriminator step on k·R1 (lazy
    /// regularisation). The discriminator's Adam then uses the learning rate times k/(k+1) and
    /// betas to the power k/(k+1) [default: R1 in every loss step].
    #[arg(long)]
    r1_interval: Option<u64>,

    /// γ of the R2 penalty (γ/2)·mean |grad_x D(x)|² on the detached fake batch, added to the
    /// discriminator loss; 0 turns it off.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    r2_gamma: f64,

    /// λ of the WGAN-GP penalty λ·mean (|grad_x D(x̂)| − 1)² at random real-fake interpolates
    /// x̂, added to the discriminator loss; 0 turns it off.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    gp_lambda: f64,

    /// λ of the DRAGAN penalty λ·mean (|grad_x D(x̃)| − 1)² at real samples x̃ = x + ½·std(x)·u
    /// perturbed by uniform noise u in [0, 1), added to the discriminator loss; 0 turns it off.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    dragan_lambda: f64,

    /// λ of the LeCam regulariser λ·[mean relu(D(x) − α_F)² + mean relu(α_R − D(G(z)))²],
    /// with α_R and α_F moving averages (decay 0.99) of D on real and fake samples, added to the
    /// discriminator loss; 0 turns it off.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    lecam_weight: f64,

    /// Architecture, optimiser, batch size and iteration count.
    #[arg(long, value_enum, default_value_t = Protocol::Quick)]
    protocol: Protocol,

    /// Training iterations (one D step and one G step each) [default: set by the protocol].
    #[arg(long)]
    iterations: Option<usize>,

    /// Real and fake samples per batch [default: set by the protocol].
    #[arg(long)]
    batch_size: Option<usize>,

    /// Adam learning rate of both networks [default: set by the protocol].
    #[arg(long, allow_negative_numbers = true)]
    learning_rate: Option<f64>,

    /// Seed of every random draw: parameters, noise, data.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Output directory, created if missing.
    #[arg(long, default_value = "out/train")]
    out: PathBuf,
}

/// Generated samples scored for the 2-D datasets, as in PacGAN.
const EVALUATION_SAMPLES: usize = 2_500;

/// Generated digits drawn in digits.png.
const DIGIT_SAMPLES: usize = 100;

fn main() {
    // The exact gradient penalties differentiate a gradient a second time. candle 0.11 keeps
    // the graph for that only when this variable is set at a thread's first backward, and it
    // reads the variable once per thread. So it is set first, before any candle work and
    // before rayon starts a thread: set_var (safe in edition 2021) is sound only while no
    // other thread reads the environment.
    std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
    if let Err(error) = run() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    // Set before any candle or rayon work reads it; rayon's pool and candle's matmul thread
    // count both read this variable once.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    let args = Args::parse();

    let loss = losses::build(args.loss, args.real_weight, args.fake_weight)?;
    let real_weight = args.real_weight.unwrap_or(1.0);
    let fake_weight = args.fake_weight.unwrap_or(1.0);
    let penalty_options = PenaltyOptions {
        r1_gamma: args.r1_gamma,
        r1_interval: args.r1_interval,
        r2_gamma: args.r2_gamma,
        gp_lambda: args.gp_lambda,
        dragan_lambda: args.dragan_lambda,
        lecam_weight: args.lecam_weight,
    };
    let penalties = Penalties::new(penalty_options)?;

    let mut setup = args.protocol.setup();
    if let Some(iterations) = args.iterations {
        setup.iterations = iterations;
    }
    if let Some(batch_size) = args.batch_size {
        setup.batch_size = batch_size;
    }
    if let Some(learning_rate) = args.learning_rate {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            let message =
                format!("--learning-rate must be positive and finite, not {learning_rate}");
            return Err(message.into());
        }
        setup.learning_rate = learning_rate;
    }
    if setup.iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    if setup.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }

    let device = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let training_size = match setup.data {
        DataSchedule::Fresh => None,
        DataSchedule::Fixed(size) => Some(size),
    };
    let sampler = Sampler::new(args.dataset, training_size, &mut rng)?;
    let dim = args.dataset.dim();
    let tanh_output = args.dataset == Dataset::Digits;
    let generator = Generator::new(&mut rng, &setup, dim, tanh_output, &device)?;
    let discriminator = Discriminator::new(&mut rng, &setup, dim, &device)?;

    println!(
        "training on {} with {} loss{}, {} protocol: {} iterations of batch {}, seed {}",
        args.dataset.name(),
        args.loss.name(),
        penalty_text(&penalty_options),
        args.protocol.name(),
        setup.iterations,
        setup.batch_size,
        args.seed
    );
    let mut trainer = Trainer {
        generator,
        discriminator,
        loss,
        penalties,
        sampler,
        rng,
        device,
    };
    let history = trainer.run(&setup)?;
    let seconds = history.elapsed.as_secs_f64();
    println!(
        "trained in {seconds:.1} s ({:.2} ms an iteration)",
        1e3 * seconds / setup.iterations as f64
    );

    std::fs::create_dir_all(&args.out)
        .map_err(|error| format!("failed to create {}: {error}", args.out.display()))?;
    let settings = report::Settings {
        dataset: args.dataset,
        loss: args.loss,
        real_weight,
        fake_weight,
        penalties: penalty_options,
        protocol: args.protocol,
        seed: args.seed,
        setup: &setup,
    };
    match args.dataset.mixture() {
        Some(mixture) => {
            let samples = report::generate(&mut trainer, &setup, EVALUATION_SAMPLES)?;
            report::write_mixture(&args.out, &settings, &history, &mixture, &samples)?;
        }
        None => {
            let samples = report::generate(&mut trainer, &setup, DIGIT_SAMPLES)?;
            report::write_digits(&args.out, &settings, &history, &samples)?;
        }
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Describes the penalties that are on, for the first output line.
fn penalty_text(options: &PenaltyOptions) -> String {
    let mut text = String::new();
    if options.r1_gamma != 0.0 {
        text += &format!(", R1 gamma {}", options.r1_gamma);
        if let Some(interval) = options.r1_interval {
            text += &format!(" every {interval} iterations");
        }
    }
    if options.r2_gamma != 0.0 {
        text += &format!(", R2 gamma {}", options.r2_gamma);
    }
    if options.gp_lambda != 0.0 {
        text += &format!(", WGAN-GP lambda {}", options.gp_lambda);
    }
    if options.dragan_lambda != 0.0 {
        text += &format!(", DRAGAN lambda {}", options.dragan_lambda);
    }
    if options.lecam_weight != 0.0 {
        text += &format!(", LeCam weight {}", options.lecam_weight);
    }
    text
}
