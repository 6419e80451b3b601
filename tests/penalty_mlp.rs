//! Exact penalty gradients against f64 central differences of the penalty's value with respect
//! to the parameters, for small MLP and convolutional discriminators, and the accuracy of the
//! finite-difference mode.

mod penalty_support;

use candle_core::{DType, Tensor, Var};
use gan_losses::penalty::{
    DraganConfig, PenaltyMode, PenaltyOutput, Side, UniformNoise, WganGpConfig, ZeroCenteredConfig,
};
use gan_losses::Result;
use penalty_support::{
    assert_gradients_close, central_differences, max_relative_gap, tensor, term_gradients, var,
};

const F64: DType = DType::F64;
const DIFFERENCE_STEP: f64 = 1e-5;
const TOLERANCE: f64 = 1e-8;

#[derive(Debug, Clone, Copy)]
enum Activation {
    Tanh,
    Softplus,
    Relu,
    LeakyRelu,
}

impl Activation {
    fn apply(self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Tanh => x.tanh(),
            // log(1 + eˣ); the inputs here are small, so the plain form is accurate.
            Self::Softplus => (x.exp()? + 1.0)?.log(),
            Self::Relu => x.relu(),
            Self::LeakyRelu => candle_nn::ops::leaky_relu(x, 0.2),
        }
    }
}

/// x ↦ a₂(a₁(x W₁ + b₁) W₂ + b₂) W₃.
struct Mlp {
    weights: Vec<Var>,
    biases: Vec<Var>,
    first: Activation,
    second: Activation,
}

impl Mlp {
    fn new(
        seed: u64,
        sizes: [usize; 4],
        first: Activation,
        second: Activation,
        dtype: DType,
    ) -> Self {
        let weights = (0..3)
            .map(|l| {
                let scale = 1.5 / (sizes[l] as f64).sqrt();
                var(seed + l as u64, (sizes[l], sizes[l + 1]), scale, dtype)
            })
            .collect();
        let biases = (0..2)
            .map(|l| var(seed + 10 + l as u64, sizes[l + 1], 0.3, dtype))
            .collect();
        Self {
            weights,
            biases,
            first,
            second,
        }
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = x
            .matmul(self.weights[0].as_tensor())?
            .broadcast_add(self.biases[0].as_tensor())?;
        let h = self.first.apply(&h)?;
        let h = h
            .matmul(self.weights[1].as_tensor())?
            .broadcast_add(self.biases[1].as_tensor())?;
        let h = self.second.apply(&h)?;
        h.matmul(self.weights[2].as_tensor())
    }

    fn params(&self) -> Vec<&Var> {
        self.weights.iter().chain(&self.biases).collect()
    }
}

/// x ↦ flatten(avg_pool(tanh(conv2d(x, K) + b))) · v for x of shape [B, 2, 4, 4].
struct ConvCritic {
    kernel: Var,
    bias: Var,
    head: Var,
}

impl ConvCritic {
    fn new(seed: u64) -> Self {
        Self {
            kernel: var(seed, (3, 2, 3, 3), 0.4, F64),
            bias: var(seed + 1, (1, 3, 1, 1), 0.2, F64),
            head: var(seed + 2, (12, 1), 0.5, F64),
        }
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = x.conv2d(self.kernel.as_tensor(), 1, 1, 1, 1)?;
        let h = h.broadcast_add(self.bias.as_tensor())?.tanh()?;
        h.avg_pool2d(2)?
            .flatten_from(1)?
            .matmul(self.head.as_tensor())
    }

    fn params(&self) -> Vec<&Var> {
        vec![&self.kernel, &self.bias, &self.head]
    }
}

/// Asserts that the term's parameter gradient matches central differences of the value.
fn check_against_differences<F>(penalty: F, params: &[&Var], what: &str)
where
    F: Fn() -> Result<PenaltyOutput>,
{
    let output = penalty().unwrap();
    let exact = term_gradients(&output, params);
    let differences = central_differences(|| penalty().map(|o| o.value), params, DIFFERENCE_STEP);
    assert!(
        differences.iter().flatten().any(|v| v.abs() > 1e-3),
        "{what}: the penalty barely depends on the parameters"
    );
    assert_gradients_close(&exact, &differences, TOLERANCE, what);
}

fn mlps() -> Vec<(&'static str, Mlp)> {
    let sizes = [3, 6, 5, 1];
    vec![
        (
            "tanh/softplus",
            Mlp::new(40, sizes, Activation::Tanh, Activation::Softplus, F64),
        ),
        (
            "relu",
            Mlp::new(50, sizes, Activation::Relu, Activation::Relu, F64),
        ),
        (
            "leaky relu/tanh",
            Mlp::new(60, sizes, Activation::LeakyRelu, Activation::Tanh, F64),
        ),
    ]
}

#[test]
fn r1_r2_mlp_match_differences() {
    let real = tensor(70, (4, 3), 1.0, F64);
    let fake = tensor(71, (4, 3), 1.0, F64);
    let penalty = ZeroCenteredConfig::default()
        .with_gamma(5.0)
        .build()
        .unwrap();
    for (name, mlp) in mlps() {
        let critic = |x: &Tensor| mlp.forward(x);
        check_against_differences(
            || penalty.r1(critic, &real),
            &mlp.params(),
            &format!("R1 {name}"),
        );
        check_against_differences(
            || penalty.r2(critic, &fake),
            &mlp.params(),
            &format!("R2 {name}"),
        );
    }
}

#[test]
fn wgan_gp_mlp_matches_differences() {
    let real = tensor(72, (4, 3), 1.0, F64);
    let fake = tensor(73, (4, 3), 1.0, F64);
    for side in [Side::TwoSided, Side::OneSided] {
        for (name, mlp) in mlps() {
            let critic = |x: &Tensor| mlp.forward(x);
            // The mean norm as target leaves some norms below it and some above.
            let norms = WganGpConfig::default()
                .build()
                .unwrap()
                .penalty(critic, &real, &fake, UniformNoise::Seeded(9))
                .unwrap()
                .gradient_norms;
            let target = norms.mean_all().unwrap().to_scalar::<f64>().unwrap();
            let gp = WganGpConfig::default()
                .with_target(target)
                .with_side(side)
                .build()
                .unwrap();
            check_against_differences(
                || gp.penalty(critic, &real, &fake, UniformNoise::Seeded(9)),
                &mlp.params(),
                &format!("WGAN-GP {side:?} {name}"),
            );
        }
    }
}

#[test]
fn dragan_mlp_matches_differences() {
    let real = tensor(74, (4, 3), 1.0, F64);
    let dragan = DraganConfig::default().build().unwrap();
    for (name, mlp) in mlps() {
        let critic = |x: &Tensor| mlp.forward(x);
        check_against_differences(
            || dragan.penalty(critic, &real, UniformNoise::Seeded(4)),
            &mlp.params(),
            &format!("DRAGAN {name}"),
        );
    }
}

#[test]
fn conv_critic_matches_differences() {
    let critic = ConvCritic::new(80);
    let real = tensor(81, (2, 2, 4, 4), 1.0, F64);
    let fake = tensor(82, (2, 2, 4, 4), 1.0, F64);
    let forward = |x: &Tensor| critic.forward(x);

    let r1 = ZeroCenteredConfig::default()
        .with_gamma(10.0)
        .build()
        .unwrap();
    check_against_differences(|| r1.r1(forward, &real), &critic.params(), "R1 conv");

    let gp = WganGpConfig::default().build().unwrap();
    check_against_differences(
        || gp.penalty(forward, &real, &fake, UniformNoise::Seeded(2)),
        &critic.params(),
        "WGAN-GP conv",
    );
}

/// Relative gap between the finite-difference mode's and the exact mode's parameter gradients.
fn finite_difference_gap(mlp: &Mlp, real: &Tensor, fake: &Tensor, step: f64) -> f64 {
    let critic = |x: &Tensor| mlp.forward(x);
    let exact = WganGpConfig::default().build().unwrap();
    let approximate = WganGpConfig::default()
        .with_mode(PenaltyMode::FiniteDifference { step })
        .build()
        .unwrap();
    let exact = exact
        .penalty(critic, real, fake, UniformNoise::Seeded(3))
        .unwrap();
    let approximate = approximate
        .penalty(critic, real, fake, UniformNoise::Seeded(3))
        .unwrap();
    assert!((exact.value - approximate.value).abs() <= 1e-5 * exact.value.abs().max(1.0));
    let exact = term_gradients(&exact, &mlp.params());
    let approximate = term_gradients(&approximate, &mlp.params());
    max_relative_gap(&approximate, &exact).0
}

#[test]
fn finite_difference_mode_accurate_when_smooth() {
    let sizes = [8, 32, 32, 1];
    let mlp = Mlp::new(
        90,
        sizes,
        Activation::Tanh,
        Activation::Softplus,
        DType::F32,
    );
    let real = tensor(91, (16, 8), 1.0, DType::F32);
    let fake = tensor(92, (16, 8), 1.0, DType::F32);
    let gap = finite_difference_gap(&mlp, &real, &fake, 1e-2);
    println!("smooth f32 MLP, step 1e-2: relative gap {gap:e}");
    assert!(gap < 1e-3, "relative gap {gap:e}");
}

#[test]
fn finite_difference_mode_fails_on_leaky_relu() {
    let sizes = [8, 32, 32, 1];
    let mlp = Mlp::new(
        93,
        sizes,
        Activation::LeakyRelu,
        Activation::LeakyRelu,
        DType::F32,
    );
    let real = tensor(94, (16, 8), 1.0, DType::F32);
    let fake = tensor(95, (16, 8), 1.0, DType::F32);
    let gap = finite_difference_gap(&mlp, &real, &fake, 1e-2);
    println!("leaky-ReLU f32 MLP, step 1e-2: relative gap {gap:e}");
    assert!(gap > 0.1, "relative gap {gap:e}");
}
