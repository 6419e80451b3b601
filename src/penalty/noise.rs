//! Uniform noise for the penalties that sample: given by the caller, seeded, or from candle.

use candle_core::{DType, Device, Shape, Tensor};

use crate::error::{Error, Result};

/// Source of the uniform [0, 1) noise that a penalty draws.
///
/// candle 0.11 cannot seed its CPU generator, so [`DeviceRng`](Self::DeviceRng) is not
/// reproducible on the CPU. [`Seeded`](Self::Seeded) and [`Given`](Self::Given) are.
#[derive(Debug, Clone, Copy)]
pub enum UniformNoise<'a> {
    /// Values supplied by the caller, of the shape the penalty documents, each in [0, 1].
    Given(&'a Tensor),
    /// Values drawn on the CPU from a SplitMix64 stream with this seed (53-bit uniforms), then
    /// moved to the samples' device and dtype. One seed gives the same values on every platform.
    Seeded(u64),
    /// Values from candle's generator for the samples' device (`Tensor::rand`).
    DeviceRng,
}

impl UniformNoise<'_> {
    /// Returns uniform noise of `shape` on `device` in `dtype`, checking given values.
    pub(crate) fn sample(
        &self,
        name: &'static str,
        shape: &Shape,
        device: &Device,
        dtype: DType,
    ) -> Result<Tensor> {
        match *self {
            Self::Given(values) => {
                if values.shape() != shape {
                    return Err(Error::SampleShapeMismatch {
                        name,
                        reference: "shape the penalty expects",
                        expected: shape.clone(),
                        found: values.shape().clone(),
                    });
                }
                check_unit_interval(name, values)?;
                Ok(values.detach().to_device(device)?.to_dtype(dtype)?)
            }
            Self::Seeded(seed) => {
                let values = split_mix_uniforms(seed, shape.elem_count());
                let tensor = Tensor::from_vec(values, shape.clone(), &Device::Cpu)?;
                Ok(tensor.to_device(device)?.to_dtype(dtype)?)
            }
            Self::DeviceRng => {
                let tensor = Tensor::rand(0f32, 1f32, shape.clone(), device)?;
                Ok(tensor.to_dtype(dtype)?)
            }
        }
    }
}

/// Draws `count` uniforms in [0, 1) from SplitMix64 (Steele, Lea and Flood, 2014).
fn split_mix_uniforms(seed: u64, count: usize) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        })
        .collect()
}

/// Checks that every value is in [0, 1], NaN included as invalid.
fn check_unit_interval(name: &'static str, values: &Tensor) -> Result<()> {
    if !values.dtype().is_float() {
        return Err(Error::UnsupportedDtype {
            name,
            dtype: values.dtype(),
        });
    }
    let flat = values
        .flatten_all()?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?;
    match flat.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(index) => Err(Error::InvalidNoise {
            name,
            index,
            value: flat[index],
        }),
        None => Ok(()),
    }
}
