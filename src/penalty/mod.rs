//! Gradient penalties on the discriminator's input gradient: R1, R2, WGAN-GP and DRAGAN, plus
//! lazy regularisation and LeCam regularisation.
//!
//! A gradient penalty is a function of gᵢ = ∇ₓD(xᵢ), so training the discriminator needs the
//! gradient of a gradient (double backward). Each penalty takes the discriminator as a closure
//! `Fn(&Tensor) -> candle_core::Result<Tensor>`, so a `candle_nn::Module` passes as
//! `|x| model.forward(x)`, and returns a [`PenaltyOutput`]: the term to add to the loss, its
//! value for logging and the per-sample norms ‖gᵢ‖.
//!
//! ```
//! use candle_core::{DType, Device, Module, Tensor};
//! use candle_nn::{linear, VarBuilder, VarMap};
//! use gan_losses::penalty::ZeroCenteredConfig;
//!
//! let varmap = VarMap::new();
//! let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
//! let hidden = linear(4, 8, vb.pp("hidden"))?;
//! let head = linear(8, 1, vb.pp("head"))?;
//! let discriminator = |x: &Tensor| head.forward(&hidden.forward(x)?.tanh()?);
//!
//! let real = Tensor::randn(0f32, 1f32, (16, 4), &Device::Cpu)?;
//! let r1 = ZeroCenteredConfig::default().with_gamma(1.0).build()?;
//! let output = r1.r1(discriminator, &real)?;
//! assert_eq!(output.gradient_norms.dims(), &[16]);
//!
//! // ∇ₓD reaches every parameter but the head's bias, which only shifts D.
//! let gradients = output.term.backward()?;
//! let vars = varmap.all_vars();
//! let with_gradient = vars.iter().filter(|v| gradients.get(v.as_tensor()).is_some());
//! assert_eq!(with_gradient.count(), 3);
//! # Ok::<(), gan_losses::Error>(())
//! ```
//!
//! # Which mode to use
//! - [`PenaltyMode::Exact`] (default) for every discriminator built from the ops listed as safe
//!   below, ReLU and leaky ReLU included. It needs `CANDLE_GRAD_DO_NOT_DETACH=1` in the
//!   environment before the process starts: candle 0.11 reads the variable once per thread, at
//!   that thread's first backward, and otherwise detaches every intermediate gradient, which
//!   gives a partial or empty penalty gradient without any error. The penalty probes for it
//!   ([`double_backward_enabled`]) and returns
//!   [`Error::DoubleBackwardDisabled`](crate::Error::DoubleBackwardDisabled) rather than a wrong
//!   gradient. This crate's `.cargo/config.toml` sets the variable for its own tests.
//! - [`PenaltyMode::FiniteDifference`] when the variable cannot be set or the discriminator
//!   contains an op without a second-order backward, and only for a smooth discriminator
//!   (tanh, sigmoid, softplus, SiLU, GELU, ELU). It needs first-order gradients only. In the
//!   tests (f32, step 1e-2, tanh/softplus MLP) its parameter gradient is within 1e-3 of the
//!   exact one, relative to the largest entry. For a leaky-ReLU MLP it is off by more than
//!   10 %, because a step that crosses a kink measures the jump in the input gradient.
//!
//! # Ops inside a penalised discriminator (candle 0.11.1)
//! Safe: the exact R1 gradient matches f64 central differences within 1e-8 in
//! tests/penalty_ops.rs. The ops tested are `matmul`, `conv2d` (strided too),
//! `conv_transpose2d`, `avg_pool2d`, `upsample_nearest2d`, `relu`, `candle_nn::ops::leaky_relu`,
//! `tanh`, `candle_nn::ops::sigmoid`, `silu`, `gelu`, `gelu_erf`, `elu`, softplus written as
//! `log(1 + exp(x))`, and the candle_nn ops built from plain ops: `softmax`, `layer_norm_slow`
//! and `rms_norm_slow`.
//!
//! Not safe:
//! - `conv1d`: the second backward fails with candle's error "backward is not supported for
//!   conv-transpose1d". This is an error, not a wrong result.
//! - `max_pool2d`: candle scales the gradient it routes to each window's maximum by 1/k² (for a
//!   k×k window with one maximum), so even ‖∇ₓD‖ comes out k² too small.
//! - `candle_nn::ops::softmax_last_dim`, `layer_norm` and `rms_norm`: these fused ops have no
//!   backward at all, so no gradient reaches their input, silently. Use `candle_nn::ops::softmax`
//!   or the `*_slow` variants instead.
//!
//! # Batch coupling
//! The penalties differentiate Σᵢ D(xᵢ) once and read gᵢ from row i, which is ∇ₓD(xᵢ) only when
//! each output depends on its own sample alone. Batch normalisation in training mode couples the
//! samples through the batch statistics, so row i mixes the gradients of the whole batch
//! (tests/penalty_closed_form.rs shows a centred critic whose rows all come out zero). Dropout
//! penalises the gradient of one randomly masked network, and the finite-difference mode's two
//! shifted passes draw different masks, so their difference is mostly mask noise. Either makes
//! the per-sample penalties wrong. Evaluate the penalty with batch norm in evaluation mode (or
//! use layer, instance or no normalisation) and with dropout off.
//!
//! # Precision
//! Norms and penalties of f16 and bf16 discriminators are computed in f32; the term is returned
//! in the discriminator output's dtype.

mod dragan;
mod gradient;
mod lazy;
mod lecam;
mod mode;
mod noise;
mod output;
mod target_norm;
mod wgan_gp;
mod zero_centered;

pub use dragan::{DraganConfig, DraganPenalty};
pub use lazy::LazyRegularization;
pub use lecam::{LeCamConfig, LeCamForm, LeCamOutput, LeCamRegularizer, LeCamState};
pub use mode::{double_backward_enabled, PenaltyMode};
pub use noise::UniformNoise;
pub use output::PenaltyOutput;
pub use target_norm::Side;
pub use wgan_gp::{WganGpConfig, WganGpPenalty};
pub use zero_centered::{ZeroCenteredConfig, ZeroCenteredPenalty};
