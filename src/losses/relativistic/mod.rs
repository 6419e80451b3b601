//! Relativistic losses (Jolicoeur-Martineau, 2018, "The relativistic discriminator: a key
//! element missing from standard GAN"): the discriminator judges whether a real sample looks
//! more realistic than a fake one (paired RSGAN) or than the fake batch on average (RaSGAN,
//! RaLSGAN, RaHinge).
//!
//! The average forms compute the relative outputs r − mean f and f − mean r with candle ops, so
//! autograd carries the gradient through both batch means. They then apply an element term to
//! each relative output and reduce it like any other loss. Every generator loss here reads the
//! real batch as well as the fake one.
//!
//! # Batch means under masks and weights
//! The batch means are plain means over the included (unmasked) elements. Per-sample weights
//! scale each element's term, as in every other loss, but do not weight the means: the reference
//! a sample is compared with is the batch's average output, whatever importance each term has.
//! A mask that excludes every element of a batch gives that batch a mean of 0.
//!
//! # Monitoring
//! The [`Summary`] of a relativistic loss reads the relative outputs: for RSGAN and RaSGAN the
//! scores are σ(r − f) or σ(r − mean f) and σ(f − r) or σ(f − mean r), for RaLSGAN and RaHinge
//! they are the relative outputs themselves. Accuracies count relative outputs on the correct
//! side of the loss's boundary. The Wasserstein estimate stays mean r − mean f of the raw
//! outputs (over pairs for RSGAN).

mod paired;
mod rahinge;
mod ralsgan;
mod rasgan;

pub use paired::{RsganConfig, RsganLoss};
pub use rahinge::{RaHingeConfig, RaHingeLoss};
pub use ralsgan::{RaLsganConfig, RaLsganLoss};
pub use rasgan::{RaSganConfig, RaSganLoss};

use candle_core::{DType, Tensor};

use crate::batch::{check_pair, compute_dtype, Batch, FAKE, REAL};
use crate::error::{Error, Result};
use crate::group::{included, sum_groups, Group};
use crate::options::{Kernel, Reduction};
use crate::summary::{summarize, to_input_dtype, Margins, Score, Summary, Terms};
use crate::term::Term;

/// The terms and factors applied to the relative real outputs r − mean f and the relative fake
/// outputs f − mean r.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RelativeTerms {
    pub real_term: Term,
    pub fake_term: Term,
    pub real_scale: f64,
    pub fake_scale: f64,
}

/// A relativistic average loss: the discriminator's and the generator's terms on the relative
/// outputs, with the shared options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AverageSpec {
    pub name: &'static str,
    pub discriminator: RelativeTerms,
    pub generator: RelativeTerms,
    pub reduction: Reduction,
    pub kernel: Kernel,
    pub score: Score,
    pub margins: Option<Margins>,
}

/// The relative outputs of both batches, in the compute dtype, carrying gradients.
struct Relative {
    real: Tensor,
    fake: Tensor,
}

/// Computes the mean of `x` over the elements that `mask` includes, as a rank-0 tensor that
/// carries the gradient to every included element.
fn included_mean(x: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let Some(mask) = mask else {
        return Ok(x.mean_all()?);
    };
    let keep = included(mask)?;
    // `where_cond` passes no gradient, and no NaN, from the excluded elements.
    let kept = keep.where_cond(x, &x.zeros_like()?)?;
    let count = keep.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?;
    Ok(kept.sum_all()?.affine(1.0 / count.max(1.0), 0.0)?)
}

fn relative(real: &Batch<'_>, fake: &Batch<'_>) -> Result<Relative> {
    let dtype = compute_dtype(real.logits().dtype());
    let r = real.logits().to_dtype(dtype)?;
    let f = fake.logits().to_dtype(dtype)?;
    let real_mean = included_mean(&r, real.mask())?;
    let fake_mean = included_mean(&f, fake.mask())?;
    Ok(Relative {
        real: r.broadcast_sub(&fake_mean)?,
        fake: f.broadcast_sub(&real_mean)?,
    })
}

/// Wraps other outputs in a batch with the weights and the mask of `like`.
pub(crate) fn with_batch_options<'a>(logits: &'a Tensor, like: &Batch<'a>) -> Batch<'a> {
    let mut batch = Batch::new(logits);
    if let Some(weights) = like.weights() {
        batch = batch.with_weights(weights);
    }
    if let Some(mask) = like.mask() {
        batch = batch.with_mask(mask);
    }
    batch
}

impl RelativeTerms {
    fn groups<'a>(
        &self,
        relative: &'a Relative,
        real: &Batch<'a>,
        fake: &Batch<'a>,
    ) -> [Group<'a>; 2] {
        [
            Group {
                batch: with_batch_options(&relative.real, real),
                names: REAL,
                term: self.real_term,
                scale: self.real_scale,
            },
            Group {
                batch: with_batch_options(&relative.fake, fake),
                names: FAKE,
                term: self.fake_term,
                scale: self.fake_scale,
            },
        ]
    }
}

impl AverageSpec {
    fn reduce(&self, terms: &RelativeTerms, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        check_pair(real, fake)?;
        let relative = relative(real, fake)?;
        let [real_group, fake_group] = terms.groups(&relative, real, fake);
        let values = [
            real_group.reduce(self.reduction, self.kernel)?,
            fake_group.reduce(self.reduction, self.kernel)?,
        ];
        sum_groups(&values, real.logits().dtype())
    }

    pub(crate) fn discriminator_loss(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        self.reduce(&self.discriminator, real, fake)
    }

    pub(crate) fn generator_loss(
        &self,
        real: Option<&Batch<'_>>,
        fake: &Batch<'_>,
    ) -> Result<Tensor> {
        let real = real.ok_or(Error::MissingRealLogits { loss: self.name })?;
        self.reduce(&self.generator, real, fake)
    }

    pub(crate) fn terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        check_pair(real, fake)?;
        let relative = relative(real, fake)?;
        let [real_group, fake_group] = self.discriminator.groups(&relative, real, fake);
        Ok(Terms {
            real: to_input_dtype(real_group.element_terms_plain()?, real.logits())?,
            fake: to_input_dtype(fake_group.element_terms_plain()?, fake.logits())?,
        })
    }

    /// Summarises the relative outputs: scores, accuracies and margins are those of
    /// r − mean f and f − mean r, and the Wasserstein estimate is mean r − mean f of the raw
    /// outputs.
    pub(crate) fn summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        check_pair(real, fake)?;
        let detached_real = real.logits().detach();
        let detached_fake = fake.logits().detach();
        let real = with_batch_options(&detached_real, real);
        let fake = with_batch_options(&detached_fake, fake);
        let relative = relative(&real, &fake)?;
        let [real_group, fake_group] = self.discriminator.groups(&relative, &real, &fake);
        let real_value = real_group.reduce(self.reduction, self.kernel)?;
        let fake_value = fake_group.reduce(self.reduction, self.kernel)?;

        let mut summary = summarize(
            &real_value,
            &fake_value,
            &real_group.batch,
            &fake_group.batch,
            self.score,
            self.margins,
        )?;
        // On the relative outputs, mean(r − f̄) − mean(f − r̄) = 2·(r̄ − f̄).
        summary.wasserstein_estimate /= 2.0;
        Ok(summary)
    }
}
