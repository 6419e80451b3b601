//! The generator and discriminator: multilayer perceptrons built from candle_nn `Linear` layers
//! whose parameters are drawn from the example's seeded generator.

use candle_core::{Device, Result, Tensor, Var, D};
use candle_nn::{Linear, Module};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::protocol::{Activation, Setup};

/// Whether a forward pass records gradients for the network's own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    /// Gradients flow into the parameters (the network's own step).
    Trainable,
    /// The parameters are detached: gradients flow only into the input (the other network's
    /// step), which saves computing gradients that would be thrown away.
    Frozen,
}

/// A fully connected layer with parameters initialised as PyTorch's `nn.Linear` does: weight
/// and bias uniform in ±1/√fan_in.
struct Dense {
    weight: Var,
    bias: Var,
}

impl Dense {
    fn new(rng: &mut ChaCha8Rng, inputs: usize, outputs: usize, device: &Device) -> Result<Self> {
        let bound = 1.0 / (inputs as f32).sqrt();
        let mut uniform = |count: usize| -> Vec<f32> {
            (0..count)
                .map(|_| rng.random_range(-bound..bound))
                .collect()
        };
        let weight = Var::from_vec(uniform(outputs * inputs), (outputs, inputs), device)?;
        let bias = Var::from_vec(uniform(outputs), outputs, device)?;
        Ok(Self { weight, bias })
    }

    fn forward(&self, x: &Tensor, params: Params) -> Result<Tensor> {
        let (weight, bias) = match params {
            Params::Trainable => (
                self.weight.as_tensor().clone(),
                self.bias.as_tensor().clone(),
            ),
            Params::Frozen => (self.weight.detach(), self.bias.detach()),
        };
        Linear::new(weight, Some(bias)).forward(x)
    }

    fn vars(&self) -> [Var; 2] {
        [self.weight.clone(), self.bias.clone()]
    }
}

/// Batch normalisation with a learned scale and shift, always normalised with the statistics
/// of the batch it is given.
struct BatchNorm {
    scale: Var,
    shift: Var,
}

/// Added to the batch variance before the square root, as PyTorch's default.
const BATCH_NORM_EPS: f64 = 1e-5;

impl BatchNorm {
    fn new(width: usize, device: &Device) -> Result<Self> {
        Ok(Self {
            scale: Var::from_vec(vec![1.0f32; width], width, device)?,
            shift: Var::from_vec(vec![0.0f32; width], width, device)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(0)?)?;
        let variance = centred.sqr()?.mean_keepdim(0)?;
        let normalised = centred.broadcast_div(&(variance + BATCH_NORM_EPS)?.sqrt()?)?;
        normalised
            .broadcast_mul(self.scale.as_tensor())?
            .broadcast_add(self.shift.as_tensor())
    }

    fn vars(&self) -> [Var; 2] {
        [self.scale.clone(), self.shift.clone()]
    }
}

/// Maps Gaussian noise to samples: hidden ReLU layers (with optional batch normalisation), then
/// a linear output, squashed by tanh for the digits.
pub struct Generator {
    hidden: Vec<(Dense, Option<BatchNorm>)>,
    output: Dense,
    tanh_output: bool,
}

impl Generator {
    /// Builds the generator of `setup` for samples of `output_dim` values.
    pub fn new(
        rng: &mut ChaCha8Rng,
        setup: &Setup,
        output_dim: usize,
        tanh_output: bool,
        device: &Device,
    ) -> Result<Self> {
        let mut hidden = Vec::new();
        let mut width = setup.noise_dim;
        for &next in &setup.generator_hidden {
            let dense = Dense::new(rng, width, next, device)?;
            let norm = match setup.generator_batch_norm {
                true => Some(BatchNorm::new(next, device)?),
                false => None,
            };
            hidden.push((dense, norm));
            width = next;
        }
        let output = Dense::new(rng, width, output_dim, device)?;
        Ok(Self {
            hidden,
            output,
            tanh_output,
        })
    }

    /// Maps a `[batch, noise_dim]` noise tensor to a `[batch, output_dim]` sample tensor.
    pub fn forward(&self, noise: &Tensor) -> Result<Tensor> {
        let mut x = noise.clone();
        for (dense, norm) in &self.hidden {
            x = dense.forward(&x, Params::Trainable)?;
            if let Some(norm) = norm {
                x = norm.forward(&x)?;
            }
            x = x.relu()?;
        }
        let x = self.output.forward(&x, Params::Trainable)?;
        match self.tanh_output {
            true => x.tanh(),
            false => Ok(x),
        }
    }

    /// Returns every trainable parameter.
    pub fn vars(&self) -> Vec<Var> {
        let mut vars = Vec::new();
        for (dense, norm) in &self.hidden {
            vars.extend(dense.vars());
            if let Some(norm) = norm {
                vars.extend(norm.vars());
            }
        }
        vars.extend(self.output.vars());
        vars
    }
}

/// Maps samples to one logit each: hidden ReLU or maxout layers, then a linear output.
pub struct Discriminator {
    hidden: Vec<Dense>,
    activation: Activation,
    output: Dense,
}

impl Discriminator {
    /// Builds the discriminator of `setup` for samples of `input_dim` values.
    pub fn new(
        rng: &mut ChaCha8Rng,
        setup: &Setup,
        input_dim: usize,
        device: &Device,
    ) -> Result<Self> {
        let pieces = match setup.discriminator_activation {
            Activation::Relu => 1,
            Activation::Maxout { pieces } => pieces,
        };
        let mut hidden = Vec::new();
        let mut width = input_dim;
        for &next in &setup.discriminator_hidden {
            hidden.push(Dense::new(rng, width, next * pieces, device)?);
            width = next;
        }
        let output = Dense::new(rng, width, 1, device)?;
        Ok(Self {
            hidden,
            activation: setup.discriminator_activation,
            output,
        })
    }

    /// Maps a `[batch, input_dim]` tensor to `[batch, 1]` logits.
    pub fn forward(&self, samples: &Tensor, params: Params) -> Result<Tensor> {
        let mut x = samples.clone();
        for dense in &self.hidden {
            x = dense.forward(&x, params)?;
            x = match self.activation {
                Activation::Relu => x.relu()?,
                Activation::Maxout { pieces } => {
                    // The pieces of one unit are adjacent columns of the linear output.
                    let (batch, columns) = x.dims2()?;
                    x.reshape((batch, columns / pieces, pieces))?
                        .max(D::Minus1)?
                }
            };
        }
        self.output.forward(&x, params)
    }

    /// Returns every trainable parameter.
    pub fn vars(&self) -> Vec<Var> {
        let mut vars = self.hidden.iter().flat_map(Dense::vars).collect::<Vec<_>>();
        vars.extend(self.output.vars());
        vars
    }
}
