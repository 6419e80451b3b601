//! LeCam regularisation with moving averages of the discriminator's outputs.

use candle_core::{DType, Tensor};

use crate::batch::compute_dtype;
use crate::error::{Error, Result};

/// Form of the LeCam regulariser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum LeCamForm {
    /// mean relu(D(x) − α_F)² + mean relu(α_R − D(G(z)))²: only real outputs above the fake
    /// average and fake outputs below the real average are pulled. This is the form of the
    /// authors' code (`lecam_reg` in google/lecam-gan, `biggan_cifar/losses.py`).
    #[default]
    Hinged,
    /// mean (D(x) − α_F)² + mean (D(G(z)) − α_R)², the plain ℓ2 form in which Tseng et al.
    /// state the regulariser.
    Squared,
}

/// Options of [`LeCamRegularizer`], checked by [`build`](Self::build).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct LeCamConfig {
    /// Weight λ on R. Default 1. Tseng et al. tune λ per dataset and architecture, so no single
    /// default suits every model.
    pub weight: f64,
    /// Decay β of the moving averages α ← β·α + (1 − β)·mean D. Default 0.99.
    pub decay: f64,
    /// Hinged (default) or squared.
    pub form: LeCamForm,
}

impl Default for LeCamConfig {
    fn default() -> Self {
        Self {
            weight: 1.0,
            decay: 0.99,
            form: LeCamForm::Hinged,
        }
    }
}

impl LeCamConfig {
    /// Sets λ.
    pub fn with_weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the decay.
    pub fn with_decay(mut self, decay: f64) -> Self {
        self.decay = decay;
        self
    }

    /// Sets the form.
    pub fn with_form(mut self, form: LeCamForm) -> Self {
        self.form = form;
        self
    }

    /// Checks the options and builds a regulariser with empty averages.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a negative or non-finite weight or a decay outside [0, 1).
    pub fn build(self) -> Result<LeCamRegularizer> {
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(Error::InvalidOption {
                option: "weight",
                value: self.weight,
                expected: "a finite, non-negative weight",
            });
        }
        if !(0.0..1.0).contains(&self.decay) {
            return Err(Error::InvalidOption {
                option: "decay",
                value: self.decay,
                expected: "a decay in [0, 1) such as 0.99",
            });
        }
        Ok(LeCamRegularizer {
            config: self,
            state: LeCamState::default(),
        })
    }
}

/// The moving averages α_R of D(real) and α_F of D(fake); `None` before the first update.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LeCamState {
    /// α_R, the moving average of the mean output on real samples.
    pub real_average: Option<f64>,
    /// α_F, the moving average of the mean output on fake samples.
    pub fake_average: Option<f64>,
}

/// A LeCam term and its detached value.
#[derive(Debug, Clone)]
pub struct LeCamOutput {
    /// Rank-0 term λ·R to add to the discriminator loss, in the outputs' dtype.
    pub term: Tensor,
    /// λ·R, detached, for logging.
    pub value: f64,
}

/// The LeCam regulariser of Tseng et al., "Regularizing Generative Adversarial Networks under
/// Limited Data" (CVPR 2021).
///
/// ```text
/// α_R ← β·α_R + (1 − β)·mean D(x),   α_F ← β·α_F + (1 − β)·mean D(G(z))   (first call: α = mean)
/// R   = mean relu(D(x) − α_F)² + mean relu(α_R − D(G(z)))²        (Hinged)
/// R   = mean (D(x) − α_F)² + mean (D(G(z)) − α_R)²                  (Squared)
/// ∂R/∂D(xᵢ) = 2·relu(D(xᵢ) − α_F)/N_real,   ∂R/∂D(G(zⱼ)) = −2·relu(α_R − D(G(zⱼ)))/N_fake
/// ```
///
/// The averages are updated with the current batch first, then used as constants. The state
/// can be saved with [`state`](LeCamRegularizer::state) and restored with
/// [`set_state`](LeCamRegularizer::set_state) (serialisable under the `serde` feature).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use gan_losses::penalty::LeCamConfig;
///
/// let real = Tensor::new(&[2.0f64, 0.0], &Device::Cpu)?;
/// let fake = Tensor::new(&[-1.0f64, 1.0], &Device::Cpu)?;
/// let mut lecam = LeCamConfig::default().build()?;
/// // First call: α_R = 1, α_F = 0; R = (2² + 0)/2 + (2² + 0)/2.
/// let output = lecam.regularize(&real, &fake)?;
/// assert!((output.value - 4.0).abs() < 1e-12);
/// assert_eq!(lecam.state().real_average, Some(1.0));
/// # Ok::<(), gan_losses::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LeCamRegularizer {
    config: LeCamConfig,
    state: LeCamState,
}

impl LeCamRegularizer {
    /// Returns the options this regulariser was built from.
    pub fn config(&self) -> &LeCamConfig {
        &self.config
    }

    /// Returns the current moving averages.
    pub fn state(&self) -> LeCamState {
        self.state
    }

    /// Replaces the moving averages, for example with ones restored from a checkpoint.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a non-finite average.
    pub fn set_state(&mut self, state: LeCamState) -> Result<()> {
        for (option, average) in [
            ("real_average", state.real_average),
            ("fake_average", state.fake_average),
        ] {
            if let Some(value) = average.filter(|value| !value.is_finite()) {
                return Err(Error::InvalidOption {
                    option,
                    value,
                    expected: "a finite moving average",
                });
            }
        }
        self.state = state;
        Ok(())
    }

    /// Updates the averages with these outputs and returns λ·R.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] for an empty batch, [`Error::UnsupportedDtype`] for integer
    /// outputs, [`Error::InvalidOption`] for a batch whose mean is not finite (the averages are
    /// then left unchanged), and candle's errors.
    pub fn regularize(
        &mut self,
        real_outputs: &Tensor,
        fake_outputs: &Tensor,
    ) -> Result<LeCamOutput> {
        let real = outputs_in_compute_dtype("real outputs", real_outputs)?;
        let fake = outputs_in_compute_dtype("fake outputs", fake_outputs)?;
        let real_mean = finite_mean("real_average", &real)?;
        let fake_mean = finite_mean("fake_average", &fake)?;

        let decay = self.config.decay;
        let update = |average: Option<f64>, mean: f64| match average {
            Some(average) => decay * average + (1.0 - decay) * mean,
            None => mean,
        };
        let real_average = update(self.state.real_average, real_mean);
        let fake_average = update(self.state.fake_average, fake_mean);
        self.state = LeCamState {
            real_average: Some(real_average),
            fake_average: Some(fake_average),
        };

        let real_gap = real.affine(1.0, -fake_average)?;
        let fake_gap = fake.affine(-1.0, real_average)?;
        let (real_gap, fake_gap) = match self.config.form {
            LeCamForm::Hinged => (real_gap.relu()?, fake_gap.relu()?),
            LeCamForm::Squared => (real_gap, fake_gap),
        };
        let regularizer = (real_gap.sqr()?.mean_all()? + fake_gap.sqr()?.mean_all()?)?;
        let term = regularizer.affine(self.config.weight, 0.0)?;
        let value = term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        Ok(LeCamOutput {
            term: term.to_dtype(real_outputs.dtype())?,
            value,
        })
    }
}

fn outputs_in_compute_dtype(name: &'static str, outputs: &Tensor) -> Result<Tensor> {
    if !outputs.dtype().is_float() {
        return Err(Error::UnsupportedDtype {
            name,
            dtype: outputs.dtype(),
        });
    }
    if outputs.elem_count() == 0 {
        return Err(Error::EmptyBatch {
            name,
            shape: outputs.shape().clone(),
        });
    }
    Ok(outputs.to_dtype(compute_dtype(outputs.dtype()))?)
}

fn finite_mean(option: &'static str, outputs: &Tensor) -> Result<f64> {
    let mean = outputs
        .detach()
        .to_dtype(DType::F64)?
        .mean_all()?
        .to_scalar::<f64>()?;
    if mean.is_finite() {
        Ok(mean)
    } else {
        Err(Error::InvalidOption {
            option,
            value: mean,
            expected: "finite discriminator outputs",
        })
    }
}
