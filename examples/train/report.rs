//! The end of a run: generated samples, metrics.json and the figures.

use std::error::Error;
use std::path::Path;

use gan_losses::LossConfig;
use serde_json::{json, Map, Value};

use crate::data::{Dataset, Mixture};
use crate::metrics::{mode_metrics, THRESHOLD_STDS};
use crate::penalties::PenaltyOptions;
use crate::plot;
use crate::protocol::{Protocol, Setup};
use crate::train::{noise, History, Trainer};

/// The settings of a run, as written to metrics.json.
pub struct Settings<'a> {
    /// The dataset.
    pub dataset: Dataset,
    /// The loss, as parsed from `--loss`.
    pub loss: LossConfig,
    /// Factor on the real term (weighted-bce).
    pub real_weight: f64,
    /// Factor on the fake term (weighted-bce).
    pub fake_weight: f64,
    /// The gradient penalty flags.
    pub penalties: PenaltyOptions,
    /// The protocol.
    pub protocol: Protocol,
    /// The seed.
    pub seed: u64,
    /// The setup after command-line overrides.
    pub setup: &'a Setup,
}

/// Draws `count` samples from the generator, as a row-major vector.
///
/// # Errors
/// When a tensor operation fails.
pub fn generate(
    trainer: &mut Trainer,
    setup: &Setup,
    count: usize,
) -> Result<Vec<f32>, Box<dyn Error>> {
    let z = noise(&mut trainer.rng, count, setup.noise_dim, &trainer.device)?;
    let samples = trainer.generator.forward(&z)?.detach();
    Ok(samples.flatten_all()?.to_vec1::<f32>()?)
}

/// Collects the settings, the training time and the last monitoring figures in a JSON object.
fn base_json(settings: &Settings<'_>, history: &History, samples: usize) -> Map<String, Value> {
    let setup = settings.setup;
    let seconds = history.elapsed.as_secs_f64();
    let mut object = Map::new();

    object.insert("dataset".into(), json!(settings.dataset.name()));
    object.insert("loss".into(), json!(settings.loss.name()));
    if matches!(settings.loss, LossConfig::WeightedBce(_)) {
        object.insert("real_weight".into(), json!(settings.real_weight));
        object.insert("fake_weight".into(), json!(settings.fake_weight));
    }
    let penalties = settings.penalties;
    object.insert("r1_gamma".into(), json!(penalties.r1_gamma));
    if let Some(interval) = penalties.r1_interval {
        object.insert("r1_interval".into(), json!(interval));
    }
    object.insert("r2_gamma".into(), json!(penalties.r2_gamma));
    object.insert("gp_lambda".into(), json!(penalties.gp_lambda));
    object.insert("dragan_lambda".into(), json!(penalties.dragan_lambda));
    object.insert("lecam_weight".into(), json!(penalties.lecam_weight));
    object.insert("protocol".into(), json!(settings.protocol.name()));
    object.insert("iterations".into(), json!(setup.iterations));
    object.insert("batch_size".into(), json!(setup.batch_size));
    object.insert("seed".into(), json!(settings.seed));
    object.insert("noise_dim".into(), json!(setup.noise_dim));
    object.insert("learning_rate".into(), json!(setup.learning_rate));
    object.insert("beta1".into(), json!(setup.beta1));

    object.insert("evaluation_samples".into(), json!(samples));
    object.insert("train_seconds".into(), json!(seconds));
    object.insert(
        "ms_per_iteration".into(),
        json!(1e3 * seconds / setup.iterations.max(1) as f64),
    );

    if let Some(summary) = &history.last_summary {
        let mut last = json!({
            "d_loss": summary.loss,
            "d_real_term": summary.real_term,
            "d_fake_term": summary.fake_term,
            "real_score": summary.real_score,
            "fake_score": summary.fake_score,
            "real_accuracy": summary.real_accuracy,
            "fake_accuracy": summary.fake_accuracy,
            "g_loss": history.g_losses.last(),
        });
        if let Some(r1) = history.last_penalties.r1 {
            last["r1_penalty"] = json!(r1);
        }
        if let Some(r2) = history.last_penalties.r2 {
            last["r2_penalty"] = json!(r2);
        }
        if let Some(gp) = history.last_penalties.gp {
            last["gp_penalty"] = json!(gp);
        }
        if let Some(dragan) = history.last_penalties.dragan {
            last["dragan_penalty"] = json!(dragan);
        }
        if let Some(lecam) = history.last_penalties.lecam {
            last["lecam_penalty"] = json!(lecam);
        }
        object.insert("last_summary".into(), last);
    }
    object
}

fn write_json(path: &Path, object: Map<String, Value>) -> Result<(), Box<dyn Error>> {
    let text = serde_json::to_string_pretty(&Value::Object(object))?;
    std::fs::write(path, text + "\n")
        .map_err(|error| format!("failed to write {}: {error}", path.display()))?;
    Ok(())
}

fn title(settings: &Settings<'_>) -> String {
    format!(
        "{} / {} / {} / {} iterations",
        settings.dataset.name(),
        settings.loss.name(),
        settings.protocol.name(),
        settings.setup.iterations
    )
}

/// Scores 2-D samples against the mixture, prints the scores and writes metrics.json,
/// losses.png and samples.png into `out`.
///
/// # Errors
/// When a file cannot be written.
pub fn write_mixture(
    out: &Path,
    settings: &Settings<'_>,
    history: &History,
    mixture: &Mixture,
    samples: &[f32],
) -> Result<(), Box<dyn Error>> {
    let scores = mode_metrics(samples, mixture);
    let threshold = THRESHOLD_STDS * mixture.std;
    let kl_text = match scores.reverse_kl {
        Some(kl) => format!("{kl:.4}"),
        None => "undefined (no high-quality sample)".to_string(),
    };
    println!(
        "modes captured {}/{}, high-quality fraction {:.4}, reverse KL {kl_text}",
        scores.modes_captured,
        mixture.centres.len(),
        scores.high_quality_fraction
    );

    let mut object = base_json(settings, history, samples.len() / 2);
    object.insert("threshold".into(), json!(threshold));
    object.insert("threshold_stds".into(), json!(THRESHOLD_STDS));
    object.insert("modes_total".into(), json!(mixture.centres.len()));
    object.insert("modes_captured".into(), json!(scores.modes_captured));
    object.insert(
        "high_quality_fraction".into(),
        json!(scores.high_quality_fraction),
    );
    object.insert("reverse_kl".into(), json!(scores.reverse_kl));
    object.insert("mode_counts".into(), json!(scores.counts));
    write_json(&out.join("metrics.json"), object)?;

    let title = title(settings);
    plot::loss_curves(
        &out.join("losses.png"),
        &history.d_losses,
        &history.g_losses,
        &title,
    )?;
    let headline = format!(
        "{}: {}/{} modes, {:.0}% high quality",
        settings.dataset.name(),
        scores.modes_captured,
        mixture.centres.len(),
        100.0 * scores.high_quality_fraction
    );
    let kl_short = scores
        .reverse_kl
        .map_or_else(|| "undefined".to_string(), |kl| format!("{kl:.3}"));
    let subtitle = format!("{title}, seed {}, reverse KL {kl_short}", settings.seed);
    plot::scatter(
        &out.join("samples.png"),
        samples,
        mixture,
        &headline,
        &subtitle,
    )
}

/// Writes metrics.json, losses.png and digits.png into `out`.
///
/// # Errors
/// When a file cannot be written.
pub fn write_digits(
    out: &Path,
    settings: &Settings<'_>,
    history: &History,
    samples: &[f32],
) -> Result<(), Box<dyn Error>> {
    let object = base_json(settings, history, samples.len() / settings.dataset.dim());
    write_json(&out.join("metrics.json"), object)?;

    let title = title(settings);
    plot::loss_curves(
        &out.join("losses.png"),
        &history.d_losses,
        &history.g_losses,
        &title,
    )?;
    plot::digit_grid(&out.join("digits.png"), samples, 10, &title)
}
