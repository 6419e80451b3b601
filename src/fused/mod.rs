//! Fused CPU kernels: one pass forward, one pass backward.

use candle_core::Tensor;

use crate::error::Result;
use crate::group::Group;
use crate::options::Reduction;

/// Reduces a group with a fused kernel, or returns `None` where none serves its device or dtype.
pub(crate) fn reduce_group(_group: &Group<'_>, _reduction: Reduction) -> Result<Option<Tensor>> {
    Ok(None)
}
