//! The shared implementation of losses that apply one term per batch and reduce.

use candle_core::{DType, Tensor};

use crate::batch::{check_batch, check_pair, compute_dtype, Batch, FAKE, REAL};
use crate::error::Result;
use crate::group::{sum_groups, Group};
use crate::options::{Kernel, Reduction};
use crate::summary::{
    summarize, summary_from_sums, to_input_dtype, InsideLimit, Margins, Monitor, Score, Summary,
    Terms,
};
use crate::term::Term;

/// A discriminator loss as a term and a factor for each batch, a reduction and a kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PairSpec {
    pub real_term: Term,
    pub fake_term: Term,
    pub real_scale: f64,
    pub fake_scale: f64,
    pub reduction: Reduction,
    pub kernel: Kernel,
    pub score: Score,
    pub margins: Option<Margins>,
}

impl PairSpec {
    fn groups<'a>(&self, real: &Batch<'a>, fake: &Batch<'a>) -> Result<[Group<'a>; 2]> {
        check_pair(real, fake)?;
        let groups = [
            Group {
                batch: *real,
                names: REAL,
                term: self.real_term,
                scale: self.real_scale,
            },
            Group {
                batch: *fake,
                names: FAKE,
                term: self.fake_term,
                scale: self.fake_scale,
            },
        ];
        for group in &groups {
            group.check_values()?;
        }
        Ok(groups)
    }

    pub(crate) fn loss(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Tensor> {
        let [real_group, fake_group] = self.groups(real, fake)?;
        let values = [
            real_group.reduce(self.reduction, self.kernel)?,
            fake_group.reduce(self.reduction, self.kernel)?,
        ];
        sum_groups(&values, real.logits().dtype())
    }

    pub(crate) fn terms(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Terms> {
        let [real_group, fake_group] = self.groups(real, fake)?;
        Ok(Terms {
            real: to_input_dtype(real_group.element_terms_plain()?, real.logits())?,
            fake: to_input_dtype(fake_group.element_terms_plain()?, fake.logits())?,
        })
    }

    pub(crate) fn summary(&self, real: &Batch<'_>, fake: &Batch<'_>) -> Result<Summary> {
        Ok(self.loss_and_summary(real, fake)?.1)
    }

    /// Computes the loss and its summary. Through the fused kernel both come from one pass over
    /// each batch. Elsewhere the summary reads the outputs again with candle ops.
    pub(crate) fn loss_and_summary(
        &self,
        real: &Batch<'_>,
        fake: &Batch<'_>,
    ) -> Result<(Tensor, Summary)> {
        let [real_group, fake_group] = self.groups(real, fake)?;
        let dtype = real.logits().dtype();

        let (real_monitor, fake_monitor) = self.monitors();
        let real_fused = real_group.reduce_monitored(self.reduction, self.kernel, real_monitor)?;
        let fake_fused = fake_group.reduce_monitored(self.reduction, self.kernel, fake_monitor)?;
        if let (Some((real_value, real_sums)), Some((fake_value, fake_sums))) =
            (real_fused, fake_fused)
        {
            let summary = summary_from_sums(
                scalar(&real_value)?,
                scalar(&fake_value)?,
                &real_sums,
                &fake_sums,
                self.margins.is_some(),
            );
            let loss = sum_groups(&[real_value, fake_value], dtype)?;
            return Ok((loss, summary));
        }

        let real_value = real_group.reduce(self.reduction, self.kernel)?;
        let fake_value = fake_group.reduce(self.reduction, self.kernel)?;
        let summary = summarize(
            &real_value.detach(),
            &fake_value.detach(),
            real,
            fake,
            self.score,
            self.margins,
        )?;
        let loss = sum_groups(&[real_value, fake_value], dtype)?;
        Ok((loss, summary))
    }

    /// Returns the summary settings of the fused pass on the real and on the fake batch.
    fn monitors(&self) -> (Monitor, Monitor) {
        let real = Monitor {
            score: self.score,
            inside: self.margins.map(|margins| InsideLimit {
                limit: margins.real,
                below: true,
            }),
        };
        let fake = Monitor {
            score: self.score,
            inside: self.margins.map(|margins| InsideLimit {
                limit: -margins.fake,
                below: false,
            }),
        };
        (real, fake)
    }
}

/// Reads a rank-0 tensor as f64.
fn scalar(value: &Tensor) -> Result<f64> {
    Ok(value.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// A generator loss as one term and factor on the fake batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FakeSpec {
    pub term: Term,
    pub scale: f64,
    pub reduction: Reduction,
    pub kernel: Kernel,
}

impl FakeSpec {
    pub(crate) fn loss(&self, fake: &Batch<'_>) -> Result<Tensor> {
        check_batch(fake, FAKE)?;
        let group = Group {
            batch: *fake,
            names: FAKE,
            term: self.term,
            scale: self.scale,
        };
        group.check_values()?;
        let value = group.reduce(self.reduction, self.kernel)?;
        let dtype = fake.logits().dtype();
        if compute_dtype(dtype) == dtype {
            Ok(value)
        } else {
            Ok(value.to_dtype(dtype)?)
        }
    }
}

/// Implements [`DiscriminatorLoss`](crate::DiscriminatorLoss) and
/// [`GeneratorLoss`](crate::GeneratorLoss) for a loss type whose fields `discriminator` and
/// `generator` are a [`PairSpec`] and a [`FakeSpec`].
macro_rules! impl_single_term_loss {
    ($loss:ty) => {
        impl $crate::loss::DiscriminatorLoss for $loss {
            fn discriminator_loss_with(
                &self,
                real: &$crate::batch::Batch<'_>,
                fake: &$crate::batch::Batch<'_>,
            ) -> $crate::error::Result<candle_core::Tensor> {
                self.discriminator.loss(real, fake)
            }

            fn discriminator_terms(
                &self,
                real: &$crate::batch::Batch<'_>,
                fake: &$crate::batch::Batch<'_>,
            ) -> $crate::error::Result<$crate::summary::Terms> {
                self.discriminator.terms(real, fake)
            }

            fn discriminator_summary(
                &self,
                real: &$crate::batch::Batch<'_>,
                fake: &$crate::batch::Batch<'_>,
            ) -> $crate::error::Result<$crate::summary::Summary> {
                self.discriminator.summary(real, fake)
            }

            fn discriminator_loss_and_summary(
                &self,
                real: &$crate::batch::Batch<'_>,
                fake: &$crate::batch::Batch<'_>,
            ) -> $crate::error::Result<(candle_core::Tensor, $crate::summary::Summary)> {
                self.discriminator.loss_and_summary(real, fake)
            }
        }

        impl $crate::loss::GeneratorLoss for $loss {
            fn generator_loss_with(
                &self,
                _real: Option<&$crate::batch::Batch<'_>>,
                fake: &$crate::batch::Batch<'_>,
            ) -> $crate::error::Result<candle_core::Tensor> {
                self.generator.loss(fake)
            }
        }
    };
}

pub(crate) use impl_single_term_loss;
