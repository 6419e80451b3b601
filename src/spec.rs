//! The shared implementation of losses that apply one term per batch and reduce.

use candle_core::Tensor;

use crate::batch::{check_batch, check_pair, compute_dtype, Batch, FAKE, REAL};
use crate::error::Result;
use crate::group::{sum_groups, Group};
use crate::options::{Kernel, Reduction};
use crate::summary::{summarize, to_input_dtype, Margins, Score, Summary, Terms};
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
        let [real_group, fake_group] = self.groups(real, fake)?;
        let real_value = real_group.reduce(self.reduction, self.kernel)?.detach();
        let fake_value = fake_group.reduce(self.reduction, self.kernel)?.detach();
        summarize(
            &real_value,
            &fake_value,
            real,
            fake,
            self.score,
            self.margins,
        )
    }
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
