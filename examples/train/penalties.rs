//! The gradient penalties of the discriminator step: R1 (`--r1-gamma`, optionally lazy with
//! `--r1-interval`), R2 (`--r2-gamma`), WGAN-GP (`--gp-lambda`) and DRAGAN (`--dragan-lambda`).

use candle_core::Tensor;
use candle_nn::ParamsAdamW;
use gan_losses::penalty::{
    DraganConfig, DraganPenalty, LazyRegularization, LeCamConfig, LeCamRegularizer, UniformNoise,
    WganGpConfig, WganGpPenalty, ZeroCenteredConfig, ZeroCenteredPenalty,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::{Discriminator, Params};

/// The penalty flags as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PenaltyOptions {
    /// γ of R1 = (γ/2)·mean ‖∇ₓD(x)‖² on the real batch; 0 turns R1 off.
    pub r1_gamma: f64,
    /// Evaluate R1 every this many iterations as its own optimiser step (lazy regularisation);
    /// `None` adds R1 to the discriminator loss of every iteration.
    pub r1_interval: Option<u64>,
    /// γ of R2 = (γ/2)·mean ‖∇ₓD(x)‖² on the detached fake batch; 0 turns R2 off.
    pub r2_gamma: f64,
    /// λ of the WGAN-GP penalty λ·mean (‖∇ₓD(x̂)‖ − 1)² at real-fake interpolates; 0 turns it
    /// off.
    pub gp_lambda: f64,
    /// λ of the DRAGAN penalty λ·mean (‖∇ₓD(x̃)‖ − 1)² at perturbed real samples; 0 turns it
    /// off.
    pub dragan_lambda: f64,
    /// λ of the LeCam regulariser on the discriminator's outputs; 0 turns it off.
    pub lecam_weight: f64,
}

/// The last value of each penalty that is on, without the lazy factor k.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PenaltyValues {
    /// The last R1 value.
    pub r1: Option<f64>,
    /// The last R2 value.
    pub r2: Option<f64>,
    /// The last WGAN-GP value.
    pub gp: Option<f64>,
    /// The last DRAGAN value.
    pub dragan: Option<f64>,
    /// The last LeCam value λ·R.
    pub lecam: Option<f64>,
}

/// The built penalties of one run.
#[derive(Debug, Clone)]
pub struct Penalties {
    r1: Option<ZeroCenteredPenalty>,
    lazy: Option<LazyRegularization>,
    r2: Option<ZeroCenteredPenalty>,
    gp: Option<WganGpPenalty>,
    dragan: Option<DraganPenalty>,
    lecam: Option<LeCamRegularizer>,
}

/// Builds the zero-centred penalty with weight `gamma`, or `None` when `gamma` is 0.
fn zero_centered(gamma: f64, flag: &str) -> Result<Option<ZeroCenteredPenalty>, String> {
    if gamma == 0.0 {
        return Ok(None);
    }
    let config = ZeroCenteredConfig::default().with_gamma(gamma);
    let penalty = config
        .build()
        .map_err(|error| format!("invalid {flag}: {error}"))?;
    Ok(Some(penalty))
}

impl Penalties {
    /// Checks the options and builds the penalties that are on.
    ///
    /// # Errors
    /// For a negative or non-finite γ or λ, an interval of 0, or an interval without R1.
    pub fn new(options: PenaltyOptions) -> Result<Self, String> {
        let r1 = zero_centered(options.r1_gamma, "--r1-gamma")?;
        let lazy = match options.r1_interval {
            None => None,
            Some(_) if r1.is_none() => {
                return Err("--r1-interval needs a positive --r1-gamma".to_string());
            }
            Some(interval) => Some(
                LazyRegularization::new(interval)
                    .map_err(|error| format!("invalid --r1-interval: {error}"))?,
            ),
        };
        let r2 = zero_centered(options.r2_gamma, "--r2-gamma")?;
        let gp = if options.gp_lambda == 0.0 {
            None
        } else {
            let config = WganGpConfig::default().with_lambda(options.gp_lambda);
            let penalty = config
                .build()
                .map_err(|error| format!("invalid --gp-lambda: {error}"))?;
            Some(penalty)
        };
        let dragan = if options.dragan_lambda == 0.0 {
            None
        } else {
            let config = DraganConfig::default().with_lambda(options.dragan_lambda);
            let penalty = config
                .build()
                .map_err(|error| format!("invalid --dragan-lambda: {error}"))?;
            Some(penalty)
        };
        let lecam = if options.lecam_weight == 0.0 {
            None
        } else {
            let config = LeCamConfig::default().with_weight(options.lecam_weight);
            let regularizer = config
                .build()
                .map_err(|error| format!("invalid --lecam-weight: {error}"))?;
            Some(regularizer)
        };
        Ok(Self {
            r1,
            lazy,
            r2,
            gp,
            dragan,
            lecam,
        })
    }

    /// Returns the discriminator's Adam parameters, rescaled for lazy R1 (learning rate times
    /// c = k/(k + 1), β₁ᶜ and β₂ᶜ) because its optimiser takes k + 1 steps every k iterations.
    pub fn adjust_adam(&self, params: ParamsAdamW) -> ParamsAdamW {
        match self.lazy {
            Some(lazy) => lazy.adjust_adam(params),
            None => params,
        }
    }

    /// Returns the penalty terms to add to this iteration's discriminator loss, in this order:
    /// R1 unless it is lazy, R2 on `fake`, WGAN-GP with its interpolation weights drawn from a
    /// seed taken from `rng`, and DRAGAN with its perturbation drawn from the next seed. The
    /// penalties differentiate detached copies of `real` and `fake`, so no gradient reaches the
    /// generator. Records the values in `values`.
    ///
    /// # Errors
    /// The penalty's error, such as a missing double backward.
    pub fn loss_terms(
        &self,
        discriminator: &Discriminator,
        real: &Tensor,
        fake: &Tensor,
        rng: &mut ChaCha8Rng,
        values: &mut PenaltyValues,
    ) -> gan_losses::Result<Vec<Tensor>> {
        let forward = |x: &Tensor| discriminator.forward(x, Params::Trainable);
        let mut terms = Vec::new();
        if let (Some(r1), None) = (self.r1, self.lazy) {
            let output = r1.r1(forward, real)?;
            values.r1 = Some(output.value);
            terms.push(output.term);
        }
        if let Some(r2) = self.r2 {
            let output = r2.r2(forward, fake)?;
            values.r2 = Some(output.value);
            terms.push(output.term);
        }
        if let Some(gp) = self.gp {
            let alpha = UniformNoise::Seeded(rng.next_u64());
            let output = gp.penalty(forward, real, fake, alpha)?;
            values.gp = Some(output.value);
            terms.push(output.term);
        }
        if let Some(dragan) = self.dragan {
            let noise = UniformNoise::Seeded(rng.next_u64());
            let output = dragan.penalty(forward, real, noise)?;
            values.dragan = Some(output.value);
            terms.push(output.term);
        }
        Ok(terms)
    }

    /// Returns the LeCam term λ·R for this iteration's discriminator outputs, after updating
    /// the regulariser's moving averages with them, and records its value in `values`.
    ///
    /// # Errors
    /// The regulariser's error, such as outputs whose mean is not finite.
    pub fn lecam_term(
        &mut self,
        real_logits: &Tensor,
        fake_logits: &Tensor,
        values: &mut PenaltyValues,
    ) -> gan_losses::Result<Option<Tensor>> {
        let Some(lecam) = self.lecam.as_mut() else {
            return Ok(None);
        };
        let output = lecam.regularize(real_logits, fake_logits)?;
        values.lecam = Some(output.value);
        Ok(Some(output.term))
    }

    /// Returns the lazy R1 term k·R1 when `step` (counted from 0) is due, for a separate
    /// optimiser step, and records R1's value in `values`.
    ///
    /// # Errors
    /// The penalty's error, such as a missing double backward.
    pub fn lazy_term(
        &self,
        step: u64,
        discriminator: &Discriminator,
        real: &Tensor,
        values: &mut PenaltyValues,
    ) -> gan_losses::Result<Option<Tensor>> {
        let (Some(r1), Some(lazy)) = (self.r1, self.lazy) else {
            return Ok(None);
        };
        if !lazy.is_due(step) {
            return Ok(None);
        }
        let output = r1.r1(|x| discriminator.forward(x, Params::Trainable), real)?;
        values.r1 = Some(output.value);
        Ok(Some(output.term.affine(lazy.weight(), 0.0)?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use rand::SeedableRng;

    use super::*;
    use crate::protocol::{Activation, Protocol};

    fn options(r1_gamma: f64, r1_interval: Option<u64>, gp_lambda: f64) -> PenaltyOptions {
        PenaltyOptions {
            r1_gamma,
            r1_interval,
            r2_gamma: 0.0,
            gp_lambda,
            dragan_lambda: 0.0,
            lecam_weight: 0.0,
        }
    }

    #[test]
    fn penalties_reject_bad_options() {
        let negative = Penalties::new(options(-1.0, None, 0.0)).unwrap_err();
        assert!(negative.contains("--r1-gamma"), "{negative}");
        let nan = Penalties::new(options(0.0, None, f64::NAN)).unwrap_err();
        assert!(nan.contains("--gp-lambda"), "{nan}");
        let orphan = Penalties::new(options(0.0, Some(4), 0.0)).unwrap_err();
        assert!(orphan.contains("--r1-gamma"), "{orphan}");
        let zero = Penalties::new(options(1.0, Some(0), 0.0)).unwrap_err();
        assert!(zero.contains("--r1-interval"), "{zero}");

        let off = options(0.0, None, 0.0);
        let r2 = Penalties::new(PenaltyOptions {
            r2_gamma: -0.5,
            ..off
        })
        .unwrap_err();
        assert!(r2.contains("--r2-gamma"), "{r2}");
        let r2_infinite = Penalties::new(PenaltyOptions {
            r2_gamma: f64::INFINITY,
            ..off
        })
        .unwrap_err();
        assert!(r2_infinite.contains("--r2-gamma"), "{r2_infinite}");
        let dragan = Penalties::new(PenaltyOptions {
            dragan_lambda: -10.0,
            ..off
        })
        .unwrap_err();
        assert!(dragan.contains("--dragan-lambda"), "{dragan}");
        let dragan_nan = Penalties::new(PenaltyOptions {
            dragan_lambda: f64::NAN,
            ..off
        })
        .unwrap_err();
        assert!(dragan_nan.contains("--dragan-lambda"), "{dragan_nan}");
        let lecam = Penalties::new(PenaltyOptions {
            lecam_weight: -1.0,
            ..off
        })
        .unwrap_err();
        assert!(lecam.contains("--lecam-weight"), "{lecam}");
    }

    #[test]
    fn lecam_term_matches_f64_reference() -> Result<(), Box<dyn std::error::Error>> {
        let weight = 0.5;
        let mut penalties = Penalties::new(PenaltyOptions {
            lecam_weight: weight,
            ..options(0.0, None, 0.0)
        })?;
        let real = [2.0f64, -1.0, 0.5];
        let fake = [-2.0f64, 1.5];
        let real_logits = Tensor::new(&real, &Device::Cpu)?;
        let fake_logits = Tensor::new(&fake, &Device::Cpu)?;
        let mut values = PenaltyValues::default();
        let term = penalties
            .lecam_term(&real_logits, &fake_logits, &mut values)?
            .ok_or("LeCam is on")?;

        // The first call sets the averages to the batch means.
        let real_average = real.iter().sum::<f64>() / real.len() as f64;
        let fake_average = fake.iter().sum::<f64>() / fake.len() as f64;
        let mean = |values: &[f64], f: &dyn Fn(f64) -> f64| {
            values.iter().map(|&v| f(v)).sum::<f64>() / values.len() as f64
        };
        let expected = weight
            * (mean(&real, &|r| (r - fake_average).max(0.0).powi(2))
                + mean(&fake, &|f| (real_average - f).max(0.0).powi(2)));
        let value = term.to_scalar::<f64>()?;
        assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
        assert_eq!(values.lecam, Some(value));

        let off = Penalties::new(options(0.0, None, 0.0))?.lecam_term(
            &real_logits,
            &fake_logits,
            &mut values,
        )?;
        assert!(off.is_none());
        Ok(())
    }

    #[test]
    fn lazy_r1_rescales_adam() -> Result<(), String> {
        let params = ParamsAdamW {
            lr: 1e-3,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        let plain = Penalties::new(options(1.0, None, 10.0))?.adjust_adam(params.clone());
        assert_eq!(plain.lr, params.lr);
        assert_eq!(plain.beta1, params.beta1);

        let lazy = Penalties::new(options(1.0, Some(4), 0.0))?.adjust_adam(params.clone());
        let c = 4.0 / 5.0;
        assert!((lazy.lr - 1e-3 * c).abs() < 1e-15);
        assert!((lazy.beta1 - 0.5f64.powf(c)).abs() < 1e-15);
        assert!((lazy.beta2 - 0.999f64.powf(c)).abs() < 1e-15);
        assert_eq!(lazy.eps, params.eps);
        Ok(())
    }

    /// Returns ∇ₓD(x) of a ReLU MLP in f64, from its parameters [w1, b1, …, w_out, b_out].
    fn input_gradient_f64(params: &[Vec<Vec<f64>>], x: &[f64]) -> Vec<f64> {
        // Forward: keep each hidden layer's ReLU mask.
        let mut activation = x.to_vec();
        let mut masks = Vec::new();
        let layers = params.len() / 2;
        for layer in 0..layers - 1 {
            let (weight, bias) = (&params[2 * layer], &params[2 * layer + 1][0]);
            let pre: Vec<f64> = weight
                .iter()
                .zip(bias)
                .map(|(row, b)| row.iter().zip(&activation).map(|(w, a)| w * a).sum::<f64>() + b)
                .collect();
            masks.push(pre.iter().map(|&v| v > 0.0).collect::<Vec<_>>());
            activation = pre.iter().map(|&v| v.max(0.0)).collect();
        }
        // Backward from the single output.
        let mut gradient = params[2 * (layers - 1)][0].clone();
        for layer in (0..layers - 1).rev() {
            let masked: Vec<f64> = gradient
                .iter()
                .zip(&masks[layer])
                .map(|(g, &on)| if on { *g } else { 0.0 })
                .collect();
            let weight = &params[2 * layer];
            gradient = (0..weight[0].len())
                .map(|j| weight.iter().zip(&masked).map(|(row, g)| row[j] * g).sum())
                .collect();
        }
        gradient
    }

    /// Returns the discriminator's parameters in f64, each bias as a one-row matrix.
    fn params_f64(discriminator: &Discriminator) -> candle_core::Result<Vec<Vec<Vec<f64>>>> {
        discriminator
            .vars()
            .iter()
            .map(|var| {
                let tensor = var.as_tensor().to_dtype(DType::F64)?;
                match tensor.rank() {
                    1 => Ok(vec![tensor.to_vec1::<f64>()?]),
                    _ => tensor.to_vec2::<f64>(),
                }
            })
            .collect()
    }

    /// Returns the mean over `rows` of `term(‖∇ₓD(x)‖²)`, in f64.
    fn mean_over_rows(
        params: &[Vec<Vec<f64>>],
        rows: &[[f32; 2]],
        term: impl Fn(f64) -> f64,
    ) -> f64 {
        let total: f64 = rows
            .iter()
            .map(|row| {
                let x = [f64::from(row[0]), f64::from(row[1])];
                let gradient = input_gradient_f64(params, &x);
                term(gradient.iter().map(|g| g * g).sum())
            })
            .sum();
        total / rows.len() as f64
    }

    #[test]
    fn r1_matches_f64_reference() -> Result<(), Box<dyn std::error::Error>> {
        let device = Device::Cpu;
        let mut setup = Protocol::Quick.setup();
        setup.discriminator_hidden = vec![5, 4];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let discriminator = Discriminator::new(&mut rng, &setup, 2, &device)?;
        let rows = [[0.7f32, -0.2], [-1.1, 0.4], [0.05, 0.9]];
        let real = Tensor::new(&rows, &device)?;
        let fake = real.zeros_like()?;

        let params = params_f64(&discriminator)?;
        let gamma = 3.0;
        let expected = 0.5 * gamma * mean_over_rows(&params, &rows, |squared| squared);

        let penalties = Penalties::new(options(gamma, None, 0.0))?;
        let mut values = PenaltyValues::default();
        let terms = penalties.loss_terms(&discriminator, &real, &fake, &mut rng, &mut values)?;
        assert_eq!(terms.len(), 1);
        let value = terms[0].to_scalar::<f32>()?;
        assert!(
            (f64::from(value) - expected).abs() < 1e-5 * expected,
            "{value} vs {expected}"
        );
        assert_eq!(
            values.r1.map(|v| (v - expected).abs() < 1e-5 * expected),
            Some(true)
        );
        assert_eq!(values.gp, None);

        // The penalty's gradient reaches the first layer's weight, through ∇ₓD.
        let gradients = terms[0].backward()?;
        assert!(gradients.get(discriminator.vars()[0].as_tensor()).is_some());

        // Lazy R1 every 2 steps: nothing at step 1, and 2·R1 at step 2.
        let lazy = Penalties::new(options(gamma, Some(2), 0.0))?;
        let mut lazy_values = PenaltyValues::default();
        let lazy_terms =
            lazy.loss_terms(&discriminator, &real, &fake, &mut rng, &mut lazy_values)?;
        assert!(lazy_terms.is_empty());
        assert!(lazy
            .lazy_term(1, &discriminator, &real, &mut lazy_values)?
            .is_none());
        let due = lazy.lazy_term(2, &discriminator, &real, &mut lazy_values)?;
        let due = due.map(|term| term.to_scalar::<f32>()).transpose()?;
        assert_eq!(
            due.map(|v| (f64::from(v) - 2.0 * expected).abs() < 1e-5 * expected),
            Some(true)
        );
        Ok(())
    }

    #[test]
    fn r2_and_dragan_match_f64_reference() -> Result<(), Box<dyn std::error::Error>> {
        let device = Device::Cpu;
        let mut setup = Protocol::Quick.setup();
        setup.discriminator_hidden = vec![5, 4];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let discriminator = Discriminator::new(&mut rng, &setup, 2, &device)?;
        let real_rows = [[0.7f32, -0.2], [-1.1, 0.4], [0.05, 0.9]];
        let fake_rows = [[-0.3f32, -0.8], [1.2, 0.1], [0.4, -1.3]];
        let real = Tensor::new(&real_rows, &device)?;
        let fake = Tensor::new(&fake_rows, &device)?;
        let params = params_f64(&discriminator)?;

        // With WGAN-GP off, DRAGAN takes the first seed drawn from the run's generator.
        let (gamma, lambda) = (3.0, 10.0);
        let seed = rng.clone().next_u64();
        let dragan = DraganConfig::default().with_lambda(lambda).build()?;
        let perturbed = dragan.perturb(&real, UniformNoise::Seeded(seed))?;
        let perturbed_rows: Vec<[f32; 2]> = perturbed
            .to_vec2::<f32>()?
            .iter()
            .map(|row| [row[0], row[1]])
            .collect();

        // The perturbation is c·std(x)·u with c = 0.5, u in [0, 1), std over the whole batch.
        let flat: Vec<f64> = real_rows.iter().flatten().map(|&v| f64::from(v)).collect();
        let mean = flat.iter().sum::<f64>() / flat.len() as f64;
        let variance = flat.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / flat.len() as f64;
        let bound = 0.5 * variance.sqrt();
        let mut shifted = 0;
        for (before, after) in real_rows.iter().zip(&perturbed_rows) {
            for (x, y) in before.iter().zip(after) {
                let delta = f64::from(*y) - f64::from(*x);
                assert!(delta >= -1e-6, "{delta}");
                assert!(delta < bound + 1e-6, "{delta} vs bound {bound}");
                shifted += usize::from(delta > 1e-6);
            }
        }
        assert!(shifted > 0, "{perturbed_rows:?}");

        let expected_r2 = 0.5 * gamma * mean_over_rows(&params, &fake_rows, |squared| squared);
        let expected_dragan = lambda
            * mean_over_rows(&params, &perturbed_rows, |squared| {
                ((squared + 1e-12).sqrt() - 1.0).powi(2)
            });

        let penalties = Penalties::new(PenaltyOptions {
            r2_gamma: gamma,
            dragan_lambda: lambda,
            ..options(0.0, None, 0.0)
        })?;
        let mut values = PenaltyValues::default();
        let terms = penalties.loss_terms(&discriminator, &real, &fake, &mut rng, &mut values)?;
        assert_eq!(terms.len(), 2);
        let close = |value: f64, expected: f64| (value - expected).abs() < 1e-5 * expected;
        let r2 = f64::from(terms[0].to_scalar::<f32>()?);
        assert!(close(r2, expected_r2), "R2 {r2} vs {expected_r2}");
        let dragan_value = f64::from(terms[1].to_scalar::<f32>()?);
        assert!(
            close(dragan_value, expected_dragan),
            "DRAGAN {dragan_value} vs {expected_dragan}"
        );
        assert_eq!(values.r2.map(|v| close(v, expected_r2)), Some(true));
        assert_eq!(values.dragan.map(|v| close(v, expected_dragan)), Some(true));
        assert_eq!(values.r1, None);
        assert_eq!(values.gp, None);

        // Both penalties' gradients reach the first layer's weight, through ∇ₓD.
        for term in &terms {
            let gradients = term.backward()?;
            assert!(gradients.get(discriminator.vars()[0].as_tensor()).is_some());
        }
        Ok(())
    }

    /// Returns R1's exact gradient for one first-layer weight and a central difference of R1's
    /// value. Both D variants are piecewise linear, so with an activation pattern that the step
    /// does not change, R1 is quadratic in one weight and the difference is exact up to f32
    /// rounding.
    fn r1_weight_gradients(
        activation: Activation,
        entries: &[(usize, usize)],
    ) -> Result<Vec<(f64, f64)>, Box<dyn std::error::Error>> {
        let device = Device::Cpu;
        let mut setup = Protocol::Pacgan.setup();
        setup.discriminator_hidden = vec![4, 3];
        setup.discriminator_activation = activation;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let discriminator = Discriminator::new(&mut rng, &setup, 2, &device)?;
        let real = Tensor::new(&[[0.7f32, -0.2], [-1.1, 0.4], [0.05, 0.9]], &device)?;
        let r1 = ZeroCenteredConfig::default().with_gamma(2.0).build()?;
        let forward = |x: &Tensor| discriminator.forward(x, Params::Trainable);

        let weight = discriminator.vars()[0].clone();
        let gradients = r1.r1(forward, &real)?.term.backward()?;
        let exact = gradients
            .get(weight.as_tensor())
            .ok_or("no R1 gradient on the first layer")?
            .to_vec2::<f32>()?;
        let base = weight.as_tensor().to_vec2::<f32>()?;
        let step = 1e-3f32;
        let mut pairs = Vec::new();
        for &(row, column) in entries {
            let value_at = |delta: f32| -> Result<f64, Box<dyn std::error::Error>> {
                let mut shifted = base.clone();
                shifted[row][column] += delta;
                weight.set(&Tensor::new(shifted, &device)?)?;
                Ok(r1.r1(forward, &real)?.value)
            };
            let difference = (value_at(step)? - value_at(-step)?) / (2.0 * f64::from(step));
            weight.set(&Tensor::new(base.clone(), &device)?)?;
            pairs.push((f64::from(exact[row][column]), difference));
        }
        Ok(pairs)
    }

    #[test]
    fn r1_gradient_through_relu_and_maxout() -> Result<(), Box<dyn std::error::Error>> {
        let entries = [(0, 0), (1, 1), (3, 0)];
        let relu = r1_weight_gradients(Activation::Relu, &entries)?;
        let maxout_entries = [(0, 0), (4, 1), (7, 0), (11, 1)];
        let maxout = r1_weight_gradients(Activation::Maxout { pieces: 3 }, &maxout_entries)?;
        let mut nonzero = 0;
        for (exact, difference) in relu.iter().chain(&maxout) {
            assert!(
                (exact - difference).abs() <= 1e-3 + 1e-2 * difference.abs(),
                "exact {exact} vs difference {difference}"
            );
            nonzero += usize::from(difference.abs() > 1e-3);
        }
        // Most entries feed an active unit, so the comparison is not of zeros only.
        assert!(nonzero >= 4, "{relu:?} {maxout:?}");
        Ok(())
    }
}
