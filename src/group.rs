//! A group is one batch, its element term and its scale; a loss is a sum of reduced groups.

use candle_core::{DType, Tensor};

use crate::batch::{check_probabilities, compute_dtype, Batch, Names};
use crate::error::Result;
use crate::fused;
use crate::options::{Kernel, Reduction};
use crate::summary::{BatchSums, Monitor};
use crate::term::Term;

/// One batch with the term applied to each of its elements and the factor on its reduced value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group<'a> {
    pub batch: Batch<'a>,
    pub names: Names,
    pub term: Term,
    pub scale: f64,
}

impl Group<'_> {
    /// Checks the values that depend on the term (probabilities must lie in [0, 1]).
    pub(crate) fn check_values(&self) -> Result<()> {
        if self.term.takes_probabilities() {
            check_probabilities(
                self.names.probabilities,
                self.batch.logits(),
                self.batch.mask(),
            )?;
        }
        Ok(())
    }

    /// Weighted, masked and scaled element terms, in the compute dtype and the logits' shape.
    /// Masked-out elements and elements of weight 0 are 0, even where their term is NaN or
    /// infinite, and so is every element of a group whose scale is 0.
    pub(crate) fn element_terms_plain(&self) -> Result<Tensor> {
        let dtype = compute_dtype(self.batch.logits().dtype());
        let mut logits = self.batch.logits().to_dtype(dtype)?;
        if self.scale == 0.0 {
            return Ok(logits.zeros_like()?);
        }

        let weights = match self.batch.weights() {
            Some(weights) => Some(weights.to_dtype(dtype)?.detach()),
            None => None,
        };
        let keep = self.kept_elements(weights.as_ref())?;
        if let Some(keep) = &keep {
            // Dropped logits are replaced by 0 before the term, so that a NaN or infinite one
            // gets a zero gradient rather than 0·NaN from the term's derivative.
            let zeros = logits.zeros_like()?;
            logits = keep.where_cond(&logits, &zeros)?;
        }
        let mut terms = self.term.apply_plain(&logits)?;

        if let Some(weights) = &weights {
            terms = terms.mul(weights)?;
        }
        if self.scale != 1.0 {
            terms = terms.affine(self.scale, 0.0)?;
        }
        if let Some(keep) = &keep {
            let zeros = terms.zeros_like()?;
            terms = keep.where_cond(&terms, &zeros)?;
        }
        Ok(terms)
    }

    /// Marks the elements that contribute: included by the mask and of non-zero weight. Returns
    /// `None` when there is neither a mask nor weights.
    fn kept_elements(&self, weights: Option<&Tensor>) -> Result<Option<Tensor>> {
        let nonzero_weight = match weights {
            Some(weights) => Some(weights.ne(0.0)?),
            None => None,
        };
        let included = match self.batch.mask() {
            Some(mask) => Some(included(mask)?),
            None => None,
        };
        match (included, nonzero_weight) {
            (Some(included), Some(nonzero)) => Ok(Some(included.mul(&nonzero)?)),
            (Some(keep), None) | (None, Some(keep)) => Ok(Some(keep)),
            (None, None) => Ok(None),
        }
    }

    /// The divisor of a mean: the element count, or the count of included elements under a mask.
    /// A mask that excludes every element gives a divisor of 1, so the group contributes 0.
    pub(crate) fn mean_divisor(&self) -> Result<f64> {
        match self.batch.mask() {
            None => Ok(self.batch.logits().elem_count() as f64),
            Some(mask) => {
                let count = included(mask)?
                    .to_dtype(DType::F64)?
                    .sum_all()?
                    .to_scalar::<f64>()?;
                Ok(count.max(1.0))
            }
        }
    }

    /// The reduced group with plain candle ops, as a rank-0 tensor in the compute dtype.
    pub(crate) fn reduce_plain(&self, reduction: Reduction) -> Result<Tensor> {
        let total = self.element_terms_plain()?.sum_all()?;
        match reduction {
            Reduction::Sum => Ok(total),
            Reduction::Mean => Ok(total.affine(1.0 / self.mean_divisor()?, 0.0)?),
        }
    }

    /// The reduced group through the chosen kernel, falling back to plain ops where no fused
    /// kernel serves the device.
    pub(crate) fn reduce(&self, reduction: Reduction, kernel: Kernel) -> Result<Tensor> {
        if self.scale == 0.0 {
            // A group of weight 0 contributes exactly 0, even where its terms are infinite.
            let dtype = compute_dtype(self.batch.logits().dtype());
            return Ok(Tensor::zeros((), dtype, self.batch.logits().device())?);
        }
        if kernel == Kernel::Fused {
            if let Some(value) = fused::reduce_group(self, reduction)? {
                return Ok(value);
            }
        }
        self.reduce_plain(reduction)
    }
}

impl Group<'_> {
    /// Reduces the group through the fused kernel and records the summary's sums in the same
    /// pass. Returns `None` for `Kernel::Plain` and where no fused kernel serves the device.
    pub(crate) fn reduce_monitored(
        &self,
        reduction: Reduction,
        kernel: Kernel,
        monitor: Monitor,
    ) -> Result<Option<(Tensor, BatchSums)>> {
        if kernel != Kernel::Fused {
            return Ok(None);
        }
        let Some((value, sums)) = fused::reduce_group_monitored(self, reduction, monitor)? else {
            return Ok(None);
        };
        if self.scale == 0.0 {
            // As in `reduce`: a group of weight 0 contributes exactly 0.
            return Ok(Some((value.zeros_like()?, sums)));
        }
        Ok(Some((value, sums)))
    }
}

/// The mask as a boolean (u8) tensor: non-zero means included.
pub(crate) fn included(mask: &Tensor) -> Result<Tensor> {
    Ok(mask.ne(0.0)?)
}

/// Adds reduced groups and returns the total in `dtype`.
pub(crate) fn sum_groups(values: &[Tensor], dtype: DType) -> Result<Tensor> {
    let mut total = values[0].clone();
    for value in &values[1..] {
        total = total.add(value)?;
    }
    Ok(total.to_dtype(dtype)?)
}
