//! Storage element types (f32, f64, f16, bf16) and how a kernel reads and writes them in blocks.

use std::mem::MaybeUninit;

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

use super::math::Real;

/// Elements per block: a kernel reads, computes and writes this many at a time, so the f32
/// copies of half-precision blocks stay in the L1 cache.
pub(crate) const BLOCK: usize = 256;

/// A storage element type and the type its kernels compute in.
pub(crate) trait Element: Copy + Send + Sync + 'static {
    /// f32 for f32, f16 and bf16; f64 for f64.
    type Compute: Real;

    /// Returns the block `source` (at most [`BLOCK`] long) in the compute type: `source` itself,
    /// or a converted copy in `buffer`.
    fn view<'a>(source: &'a [Self], buffer: &'a mut [Self::Compute; BLOCK]) -> &'a [Self::Compute];

    /// Converts the compute-type values `source` and writes them to every slot of `target`,
    /// which has the same length.
    fn store(source: &[Self::Compute], target: &mut [MaybeUninit<Self>]);
}

impl Element for f32 {
    type Compute = f32;

    #[inline(always)]
    fn view<'a>(source: &'a [f32], _buffer: &'a mut [f32; BLOCK]) -> &'a [f32] {
        source
    }

    #[inline(always)]
    fn store(source: &[f32], target: &mut [MaybeUninit<f32>]) {
        for (slot, &value) in target.iter_mut().zip(source) {
            slot.write(value);
        }
    }
}

impl Element for f64 {
    type Compute = f64;

    #[inline(always)]
    fn view<'a>(source: &'a [f64], _buffer: &'a mut [f64; BLOCK]) -> &'a [f64] {
        source
    }

    #[inline(always)]
    fn store(source: &[f64], target: &mut [MaybeUninit<f64>]) {
        for (slot, &value) in target.iter_mut().zip(source) {
            slot.write(value);
        }
    }
}

impl Element for bf16 {
    type Compute = f32;

    #[inline(always)]
    fn view<'a>(source: &'a [bf16], buffer: &'a mut [f32; BLOCK]) -> &'a [f32] {
        let widened = &mut buffer[..source.len()];
        for (wide, narrow) in widened.iter_mut().zip(source) {
            *wide = bf16_to_f32(*narrow);
        }
        widened
    }

    #[inline(always)]
    fn store(source: &[f32], target: &mut [MaybeUninit<bf16>]) {
        for (slot, &value) in target.iter_mut().zip(source) {
            slot.write(f32_to_bf16(value));
        }
    }
}

impl Element for f16 {
    type Compute = f32;

    #[inline(always)]
    fn view<'a>(source: &'a [f16], buffer: &'a mut [f32; BLOCK]) -> &'a [f32] {
        let widened = &mut buffer[..source.len()];
        source.convert_to_f32_slice(widened);
        widened
    }

    #[inline(always)]
    fn store(source: &[f32], target: &mut [MaybeUninit<f16>]) {
        for (slot, &value) in target.iter_mut().zip(source) {
            slot.write(f16::from_f32(value));
        }
    }
}

/// bf16 is the upper half of an f32, so widening is a shift (exact, NaN kept).
#[inline(always)]
fn bf16_to_f32(value: bf16) -> f32 {
    f32::from_bits(u32::from(value.to_bits()) << 16)
}

/// Rounds to the nearest bf16, ties to even, with branch-free integer steps that vectorise;
/// NaN stays NaN (quiet), ±∞ stays ±∞, and values past the largest bf16 round to ±∞.
#[inline(always)]
fn f32_to_bf16(value: f32) -> bf16 {
    let bits = value.to_bits();
    let odd = (bits >> 16) & 1;
    let rounded = (bits.wrapping_add(0x7fff + odd) >> 16) as u16;
    let quiet_nan = ((bits >> 16) as u16) | 0x0040;
    bf16::from_bits(if value.is_nan() { quiet_nan } else { rounded })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounding_matches_half() {
        let mut x = 1e-42f32;
        while x < 3e38 {
            for value in [x, -x, x * 1.001_953_1, x * 1.003_906_2] {
                let expected = bf16::from_f32(value);
                let got = f32_to_bf16(value);
                assert_eq!(got.to_bits(), expected.to_bits(), "rounding {value}");
                assert_eq!(bf16_to_f32(got), expected.to_f32());
            }
            x *= 1.01;
        }
        for value in [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::MAX] {
            assert_eq!(
                f32_to_bf16(value).to_bits(),
                bf16::from_f32(value).to_bits()
            );
        }
        assert!(bf16_to_f32(f32_to_bf16(f32::NAN)).is_nan());
    }

    #[test]
    fn half_blocks_round_trip() {
        let source: Vec<f16> = (0..100).map(|i| f16::from_f32(i as f32 * 0.25)).collect();
        let mut buffer = [0.0f32; BLOCK];
        let view = f16::view(&source, &mut buffer);
        assert_eq!(view.len(), 100);
        assert_eq!(view[7], 1.75);

        let wide: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let mut target = vec![MaybeUninit::uninit(); 100];
        f16::store(&wide, &mut target);
        let target: Vec<f16> = target
            .iter()
            // SAFETY: `store` wrote all 100 slots.
            .map(|slot| unsafe { slot.assume_init() })
            .collect();
        assert_eq!(target[99].to_f32(), 99.0);
    }
}
