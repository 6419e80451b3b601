//! Detached figures for monitoring a discriminator, and the unreduced element terms.

use candle_core::{DType, Tensor};

use crate::batch::{compute_dtype, Batch};
use crate::error::Result;
use crate::group::included;

/// The unreduced element terms of a discriminator loss, one tensor per batch, each of the shape
/// and dtype of its logits.
///
/// Each element is the weighted term of one output, times the loss's factor on its batch
/// (for example ½ for least squares), with masked-out elements set to 0. They carry gradients.
/// The sum of both tensors is the loss under [`Reduction::Sum`](crate::Reduction::Sum); under
/// [`Reduction::Mean`](crate::Reduction::Mean) the loss is each tensor's sum divided by its
/// element count (or its count of included elements), added.
#[derive(Debug, Clone)]
pub struct Terms {
    /// Terms of the real batch.
    pub real: Tensor,
    /// Terms of the fake batch.
    pub fake: Tensor,
}

/// Monitoring figures of one discriminator step, detached from the graph.
///
/// Scores are probabilities for the logit losses (D(x) = σ(logit)) and raw outputs for critic
/// losses (hinge, Wasserstein, least squares). A real sample counts as correct when its output
/// lies strictly above the loss's decision boundary, a fake one when it lies strictly below.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Summary {
    /// The discriminator loss.
    pub loss: f64,
    /// The real batch's share of the loss.
    pub real_term: f64,
    /// The fake batch's share of the loss.
    pub fake_term: f64,
    /// Mean D(x) over the real batch.
    pub real_score: f64,
    /// Mean D(G(z)) over the fake batch.
    pub fake_score: f64,
    /// Fraction of real samples above the decision boundary.
    pub real_accuracy: f64,
    /// Fraction of fake samples below the decision boundary.
    pub fake_accuracy: f64,
    /// Mean of sign(output − boundary) over the real batch: the overfitting heuristic r_t of
    /// adaptive discriminator augmentation (Karras et al., 2020), near 1 when D memorises.
    pub real_sign_mean: f64,
    /// Fraction of all samples whose hinge term is non-zero; `None` for losses without a margin.
    pub inside_margin_fraction: Option<f64>,
    /// mean r − mean f of the raw outputs: the critic's Wasserstein estimate.
    pub wasserstein_estimate: f64,
}

/// Reading of discriminator outputs for monitoring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Score {
    /// Logits: the score is σ(x), the boundary 0.
    Logit,
    /// Probabilities: the score is p, the boundary ½.
    Probability,
    /// Raw critic outputs with a decision boundary.
    Critic { boundary: f64 },
}

impl Score {
    pub(crate) fn boundary(&self) -> f64 {
        match *self {
            Score::Logit => 0.0,
            Score::Probability => 0.5,
            Score::Critic { boundary } => boundary,
        }
    }
}

/// Margins of a hinge loss, for the inside-margin fraction: a real output counts when below
/// `real`, a fake output when above `−fake`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Margins {
    pub real: f64,
    pub fake: f64,
}

/// Settings of the summary sums that the fused forward pass records for one batch: the scoring
/// of an output, and the hinge limit that decides the inside-margin count (below it for the real
/// batch, above it for the fake batch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Monitor {
    pub score: Score,
    pub inside: Option<InsideLimit>,
}

/// A hinge margin as seen by one batch: outputs below (real) or above (fake) `limit` are inside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct InsideLimit {
    pub limit: f64,
    pub below: bool,
}

/// Sums over the included elements of one batch, from which the summary's figures follow.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct BatchSums {
    count: f64,
    raw: f64,
    score: f64,
    above: f64,
    below: f64,
    sign: f64,
    inside: f64,
}

impl BatchSums {
    /// Adds one included output `x`.
    #[inline(always)]
    pub(crate) fn add(&mut self, x: f64, monitor: &Monitor) {
        let boundary = monitor.score.boundary();
        self.count += 1.0;
        self.raw += x;
        self.score += match monitor.score {
            Score::Logit => sigmoid(x),
            Score::Probability | Score::Critic { .. } => x,
        };
        // Comparisons with NaN are false, so a NaN output counts on neither side.
        let shifted = x - boundary;
        if shifted > 0.0 {
            self.above += 1.0;
            self.sign += 1.0;
        } else if shifted < 0.0 {
            self.below += 1.0;
            self.sign -= 1.0;
        }
        if let Some(inside) = monitor.inside {
            if (inside.below && x < inside.limit) || (!inside.below && x > inside.limit) {
                self.inside += 1.0;
            }
        }
    }

    /// Adds the sums of another part of the batch.
    pub(crate) fn merge(&mut self, other: &BatchSums) {
        self.count += other.count;
        self.raw += other.raw;
        self.score += other.score;
        self.above += other.above;
        self.below += other.below;
        self.sign += other.sign;
        self.inside += other.inside;
    }

    fn stats(&self) -> BatchStats {
        let divisor = self.count.max(1.0);
        BatchStats {
            count: self.count,
            mean_raw: self.raw / divisor,
            mean_score: self.score / divisor,
            above: self.above / divisor,
            below: self.below / divisor,
            sign_mean: self.sign / divisor,
        }
    }
}

/// σ(x) without overflow for large |x|.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Builds the summary from the reduced group values and the sums that the fused forward pass
/// recorded; `margins` is true when the loss has a hinge margin.
pub(crate) fn summary_from_sums(
    real_term: f64,
    fake_term: f64,
    real: &BatchSums,
    fake: &BatchSums,
    margins: bool,
) -> Summary {
    let r = real.stats();
    let f = fake.stats();
    let inside_margin_fraction = if margins {
        Some((real.inside + fake.inside) / (r.count + f.count).max(1.0))
    } else {
        None
    };
    Summary {
        loss: real_term + fake_term,
        real_term,
        fake_term,
        real_score: r.mean_score,
        fake_score: f.mean_score,
        real_accuracy: r.above,
        fake_accuracy: f.below,
        real_sign_mean: r.sign_mean,
        inside_margin_fraction,
        wasserstein_estimate: r.mean_raw - f.mean_raw,
    }
}

/// Per-batch statistics over the included elements, in f64.
struct BatchStats {
    count: f64,
    mean_raw: f64,
    mean_score: f64,
    above: f64,
    below: f64,
    sign_mean: f64,
}

fn batch_stats(batch: &Batch<'_>, score: Score) -> Result<BatchStats> {
    let x = batch.logits().detach().to_dtype(DType::F64)?;
    let keep = match batch.mask() {
        Some(mask) => included(mask)?.to_dtype(DType::F64)?,
        None => x.ones_like()?,
    };
    let count = keep.sum_all()?.to_scalar::<f64>()?;
    let mean_of = |t: &Tensor| -> Result<f64> {
        let zeros = t.zeros_like()?;
        let kept = keep.ne(0.0)?.where_cond(t, &zeros)?;
        Ok(kept.sum_all()?.to_scalar::<f64>()? / count.max(1.0))
    };

    let boundary = score.boundary();
    let scores = match score {
        Score::Logit => candle_nn::ops::sigmoid(&x)?,
        Score::Probability | Score::Critic { .. } => x.clone(),
    };
    let shifted = x.affine(1.0, -boundary)?;
    Ok(BatchStats {
        count,
        mean_raw: mean_of(&x)?,
        mean_score: mean_of(&scores)?,
        above: mean_of(&shifted.gt(0.0)?.to_dtype(DType::F64)?)?,
        below: mean_of(&shifted.lt(0.0)?.to_dtype(DType::F64)?)?,
        sign_mean: mean_of(&shifted.sign()?)?,
    })
}

fn inside_fraction(batch: &Batch<'_>, limit: f64, below: bool) -> Result<f64> {
    let x = batch.logits().detach().to_dtype(DType::F64)?;
    let inside = if below { x.lt(limit)? } else { x.gt(limit)? };
    let inside = match batch.mask() {
        Some(mask) => inside.mul(&included(mask)?)?,
        None => inside,
    };
    Ok(inside.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?)
}

/// Builds the summary from the reduced group values and the raw batches with candle ops, a few
/// passes over the outputs: the path of devices without a fused kernel and of `Kernel::Plain`.
pub(crate) fn summarize(
    real_term: &Tensor,
    fake_term: &Tensor,
    real: &Batch<'_>,
    fake: &Batch<'_>,
    score: Score,
    margins: Option<Margins>,
) -> Result<Summary> {
    let real_term = real_term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    let fake_term = fake_term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    let r = batch_stats(real, score)?;
    let f = batch_stats(fake, score)?;

    let inside_margin_fraction = match margins {
        Some(m) => {
            let inside =
                inside_fraction(real, m.real, true)? + inside_fraction(fake, -m.fake, false)?;
            Some(inside / (r.count + f.count).max(1.0))
        }
        None => None,
    };

    Ok(Summary {
        loss: real_term + fake_term,
        real_term,
        fake_term,
        real_score: r.mean_score,
        fake_score: f.mean_score,
        real_accuracy: r.above,
        fake_accuracy: f.below,
        real_sign_mean: r.sign_mean,
        inside_margin_fraction,
        wasserstein_estimate: r.mean_raw - f.mean_raw,
    })
}

/// Converts element terms back to the logits' dtype.
pub(crate) fn to_input_dtype(terms: Tensor, logits: &Tensor) -> Result<Tensor> {
    if compute_dtype(logits.dtype()) == logits.dtype() {
        Ok(terms)
    } else {
        Ok(terms.to_dtype(logits.dtype())?)
    }
}
