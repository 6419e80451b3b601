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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::protocol::Protocol;

    #[test]
    fn pacgan_networks_shapes_and_gradients() -> Result<()> {
        let device = Device::Cpu;
        let setup = Protocol::Pacgan.setup();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let generator = Generator::new(&mut rng, &setup, 2, false, &device)?;
        let discriminator = Discriminator::new(&mut rng, &setup, 2, &device)?;
        let noise = Tensor::from_vec(vec![0.5f32, -1.0, 0.25, 2.0, -0.75, 0.0], (3, 2), &device)?;

        let samples = generator.forward(&noise)?;
        let logits = discriminator.forward(&samples, Params::Frozen)?;
        let grads = logits.sum_all()?.backward()?;

        assert_eq!(samples.dims(), &[3, 2]);
        assert_eq!(logits.dims(), &[3, 1]);
        // 4 dense layers with batch norm, then the output layer: 2 parameters each.
        assert_eq!(generator.vars().len(), 4 * 4 + 2);
        assert_eq!(discriminator.vars().len(), 4 * 2);
        for var in generator.vars() {
            assert!(
                grads.get(&var).is_some(),
                "generator parameter without gradient"
            );
        }
        for var in discriminator.vars() {
            assert!(grads.get(&var).is_none(), "frozen parameter with gradient");
        }
        Ok(())
    }

    #[test]
    fn maxout_takes_max_of_adjacent_pieces() -> Result<()> {
        let device = Device::Cpu;
        let mut setup = Protocol::Pacgan.setup();
        setup.discriminator_hidden = vec![2];
        setup.discriminator_activation = Activation::Maxout { pieces: 3 };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let discriminator = Discriminator::new(&mut rng, &setup, 1, &device)?;
        let layer = &discriminator.hidden[0];
        // Weights (6, 1) and zero bias: unit 0 has pieces 1, −2, 3 and unit 1 has −1, 5, 0.
        layer.weight.set(&Tensor::from_vec(
            vec![1.0f32, -2.0, 3.0, -1.0, 5.0, 0.0],
            (6, 1),
            &device,
        )?)?;
        layer
            .bias
            .set(&Tensor::zeros(6, candle_core::DType::F32, &device)?)?;
        let output = &discriminator.output;
        output
            .weight
            .set(&Tensor::from_vec(vec![1.0f32, 10.0], (1, 2), &device)?)?;
        output
            .bias
            .set(&Tensor::zeros(1, candle_core::DType::F32, &device)?)?;

        let x = Tensor::from_vec(vec![2.0f32, -1.0], (2, 1), &device)?;
        let logits = discriminator
            .forward(&x, Params::Trainable)?
            .to_vec2::<f32>()?;

        // x = 2: unit maxima max(2, −4, 6) = 6 and max(−2, 10, 0) = 10, logit 6 + 100.
        // x = −1: maxima max(−1, 2, −3) = 2 and max(1, −5, 0) = 1, logit 2 + 10.
        assert_eq!(logits, vec![vec![106.0], vec![12.0]]);
        Ok(())
    }
}
