//! The alternating training loop: one discriminator step, then one generator step.

use std::error::Error;
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use gan_losses::{AnyLoss, Batch, DiscriminatorLoss, GeneratorLoss, Summary};
use indicatif::{ProgressBar, ProgressStyle};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::Sampler;
use crate::model::{Discriminator, Generator, Params};
use crate::penalties::{Penalties, PenaltyValues};
use crate::protocol::Setup;

/// Adam's ε, as PyTorch's default.
const ADAM_EPS: f64 = 1e-8;

/// The number of monitoring lines printed during training.
const REPORTS: usize = 10;

/// The per-iteration losses and the last monitoring figures of a run.
pub struct History {
    /// Discriminator loss per iteration without penalties, before its step.
    pub d_losses: Vec<f32>,
    /// Generator loss per iteration, before its step.
    pub g_losses: Vec<f32>,
    /// Monitoring figures of the last iteration's discriminator batch.
    pub last_summary: Option<Summary>,
    /// Penalty values at the last monitoring line.
    pub last_penalties: PenaltyValues,
    /// Wall-clock time of the training loop.
    pub elapsed: Duration,
}

/// The networks, their optimisers and the randomness of one run.
pub struct Trainer {
    /// The generator.
    pub generator: Generator,
    /// The discriminator.
    pub discriminator: Discriminator,
    /// The loss of both steps.
    pub loss: AnyLoss,
    /// The gradient penalties of the discriminator step.
    pub penalties: Penalties,
    /// The source of real batches.
    pub sampler: Sampler,
    /// The seeded generator for data and noise.
    pub rng: ChaCha8Rng,
    /// The device of every tensor.
    pub device: Device,
}

/// Draws a `[rows, columns]` tensor of standard normal noise from the seeded generator.
pub fn noise(
    rng: &mut ChaCha8Rng,
    rows: usize,
    columns: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let values = (0..rows * columns)
        .map(|_| StandardNormal.sample(rng))
        .collect::<Vec<f32>>();
    Tensor::from_vec(values, (rows, columns), device)
}

/// Adam with every field set: no weight decay, so AdamW is plain Adam.
fn adam_params(setup: &Setup) -> ParamsAdamW {
    ParamsAdamW {
        lr: setup.learning_rate,
        beta1: setup.beta1,
        beta2: setup.beta2,
        eps: ADAM_EPS,
        weight_decay: 0.0,
    }
}

/// Creates a progress bar on stderr that shows the live losses in its message.
fn progress_bar(iterations: usize) -> Result<ProgressBar, Box<dyn Error>> {
    let bar = ProgressBar::new(iterations as u64);
    let template = "[{bar:24}] {pos}/{len} eta {eta} {msg}";
    bar.set_style(ProgressStyle::with_template(template)?.progress_chars("=> "));
    Ok(bar)
}

/// Prints a line without garbling the bar; a hidden bar (stderr not a terminal) prints nothing
/// itself, so the line goes to stdout directly.
fn report(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        println!("{line}");
    } else {
        bar.println(line);
    }
}

fn summary_line(
    iteration: usize,
    iterations: usize,
    summary: &Summary,
    penalties: &PenaltyValues,
    g_loss: f32,
) -> String {
    let mut line = format!(
        "iter {iteration:>7}/{iterations}  D(x) {:.3}  D(G(z)) {:.3}  acc real {:.2} fake {:.2}  \
         D real {:.4} fake {:.4}",
        summary.real_score,
        summary.fake_score,
        summary.real_accuracy,
        summary.fake_accuracy,
        summary.real_term,
        summary.fake_term,
    );
    if let Some(r1) = penalties.r1 {
        line += &format!("  R1 {r1:.4}");
    }
    if let Some(r2) = penalties.r2 {
        line += &format!("  R2 {r2:.4}");
    }
    if let Some(gp) = penalties.gp {
        line += &format!("  GP {gp:.4}");
    }
    if let Some(dragan) = penalties.dragan {
        line += &format!("  DRAGAN {dragan:.4}");
    }
    if let Some(lecam) = penalties.lecam {
        line += &format!("  LeCam {lecam:.4}");
    }
    line + &format!("  G {g_loss:.4}")
}

impl Trainer {
    /// Trains for `setup.iterations` iterations of `setup.batch_size` real and fake samples.
    ///
    /// # Errors
    /// When a tensor operation or the loss fails.
    pub fn run(&mut self, setup: &Setup) -> Result<History, Box<dyn Error>> {
        let d_params = self.penalties.adjust_adam(adam_params(setup));
        let mut d_optimizer = AdamW::new(self.discriminator.vars(), d_params)?;
        let mut g_optimizer = AdamW::new(self.generator.vars(), adam_params(setup))?;
        let batch = setup.batch_size;
        let iterations = setup.iterations;
        let report_every = (iterations / REPORTS).max(1);
        let dim = self.sampler.dim();

        let bar = progress_bar(iterations)?;
        let mut history = History {
            d_losses: Vec::with_capacity(iterations),
            g_losses: Vec::with_capacity(iterations),
            last_summary: None,
            last_penalties: PenaltyValues::default(),
            elapsed: Duration::ZERO,
        };
        let mut penalty_values = PenaltyValues::default();
        let start = Instant::now();

        for iteration in 1..=iterations {
            let real_values = self.sampler.next_batch(&mut self.rng, batch);
            let real = Tensor::from_vec(real_values, (batch, dim), &self.device)?;
            let z = noise(&mut self.rng, batch, setup.noise_dim, &self.device)?;
            let fake = self.generator.forward(&z)?;

            // Discriminator step: one forward pass over real and fake rows together, with the
            // fake rows detached so that no gradient reaches the generator. The penalties run
            // their own passes on copies of the samples.
            let fake_detached = fake.detach();
            let both = Tensor::cat(&[&real, &fake_detached], 0)?;
            let logits = self.discriminator.forward(&both, Params::Trainable)?;
            let real_logits = logits.narrow(0, 0, batch)?;
            let fake_logits = logits.narrow(0, batch, batch)?;
            // On report iterations the summary comes with the loss, from the same pass.
            let report_now = iteration % report_every == 0 || iteration == iterations;
            let (d_loss, summary) = if report_now {
                let (loss, summary) = self.loss.discriminator_loss_and_summary(
                    &Batch::new(&real_logits),
                    &Batch::new(&fake_logits),
                )?;
                (loss, Some(summary))
            } else {
                (
                    self.loss.discriminator_loss(&real_logits, &fake_logits)?,
                    None,
                )
            };
            let mut d_total = d_loss.clone();
            if let Some(term) =
                self.penalties
                    .lecam_term(&real_logits, &fake_logits, &mut penalty_values)?
            {
                d_total = (d_total + term)?;
            }
            for term in self.penalties.loss_terms(
                &self.discriminator,
                &real,
                &fake_detached,
                &mut self.rng,
                &mut penalty_values,
            )? {
                d_total = (d_total + term)?;
            }
            d_optimizer.backward_step(&d_total)?;

            // Lazy R1: on due iterations, a separate step on k·R1 through the updated D.
            let step = (iteration - 1) as u64;
            if let Some(term) =
                self.penalties
                    .lazy_term(step, &self.discriminator, &real, &mut penalty_values)?
            {
                d_optimizer.backward_step(&term)?;
            }

            // Generator step on the same fake batch, through the updated discriminator.
            let fake_logits_g = self.discriminator.forward(&fake, Params::Frozen)?;
            let g_loss = if self.loss.needs_real_logits() {
                let real_logits_g = self.discriminator.forward(&real, Params::Frozen)?;
                self.loss.generator_loss_with(
                    Some(&Batch::new(&real_logits_g)),
                    &Batch::new(&fake_logits_g),
                )?
            } else {
                self.loss.generator_loss(&fake_logits_g)?
            };
            g_optimizer.backward_step(&g_loss)?;

            let d_value = d_loss.to_scalar::<f32>()?;
            let g_value = g_loss.to_scalar::<f32>()?;
            history.d_losses.push(d_value);
            history.g_losses.push(g_value);
            bar.set_message(format!("D {d_value:.4} G {g_value:.4}"));
            bar.inc(1);

            if let Some(summary) = summary {
                let line = summary_line(iteration, iterations, &summary, &penalty_values, g_value);
                report(&bar, line);
                history.last_summary = Some(summary);
                history.last_penalties = penalty_values;
            }
        }

        history.elapsed = start.elapsed();
        bar.finish_and_clear();
        Ok(history)
    }
}
