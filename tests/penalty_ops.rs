//! Which candle 0.11.1 ops a penalised discriminator may contain: the exact R1 gradient
//! against f64 central differences of R1's value, and the ops that fail.

mod penalty_support;

use candle_core::{DType, Device, Tensor, Var};
use gan_losses::penalty::ZeroCenteredConfig;
use penalty_support::{
    assert_gradients_close, central_differences, flat, tensor, term_gradients, var,
};

const F64: DType = DType::F64;

type Layer = fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor>;

/// Compares the exact R1 gradient with central differences for D(x) = layer(x, p, q).
fn check_layer(name: &str, layer: Layer, p: &Var, q: &Var, x: &Tensor) {
    let r1 = ZeroCenteredConfig::default()
        .with_gamma(2.0)
        .build()
        .unwrap();
    let critic = |x: &Tensor| layer(x, p.as_tensor(), q.as_tensor());
    let params = [p, q];

    let output = r1.r1(critic, x).unwrap();
    let exact = term_gradients(&output, &params);
    let differences = central_differences(|| r1.r1(critic, x).map(|o| o.value), &params, 1e-5);
    assert!(
        differences.iter().flatten().any(|v| v.abs() > 1e-3),
        "{name}: R1 barely depends on the parameters"
    );
    assert_gradients_close(&exact, &differences, 1e-8, name);
}

#[test]
fn activations_after_linear_are_safe() {
    let w1 = var(1, (3, 5), 1.0, F64);
    let w2 = var(2, (5, 1), 1.0, F64);
    let x = tensor(3, (4, 3), 1.0, F64);
    let layers: [(&str, Layer); 12] = [
        ("tanh", |x, a, b| x.matmul(a)?.tanh()?.matmul(b)),
        ("relu", |x, a, b| x.matmul(a)?.relu()?.matmul(b)),
        ("leaky_relu", |x, a, b| {
            candle_nn::ops::leaky_relu(&x.matmul(a)?, 0.2)?.matmul(b)
        }),
        ("sigmoid", |x, a, b| {
            candle_nn::ops::sigmoid(&x.matmul(a)?)?.matmul(b)
        }),
        ("silu", |x, a, b| x.matmul(a)?.silu()?.matmul(b)),
        ("gelu", |x, a, b| x.matmul(a)?.gelu()?.matmul(b)),
        ("gelu_erf", |x, a, b| x.matmul(a)?.gelu_erf()?.matmul(b)),
        ("elu", |x, a, b| x.matmul(a)?.elu(1.0)?.matmul(b)),
        ("softplus", |x, a, b| {
            (x.matmul(a)?.exp()? + 1.0)?.log()?.matmul(b)
        }),
        ("candle_nn::ops::softmax", |x, a, b| {
            candle_nn::ops::softmax(&x.matmul(a)?, 1)?.matmul(b)
        }),
        ("candle_nn::ops::layer_norm_slow", |x, a, b| {
            let h = x.matmul(a)?;
            let alpha = Tensor::ones(h.dim(1)?, h.dtype(), h.device())?;
            let beta = alpha.zeros_like()?;
            candle_nn::ops::layer_norm_slow(&h, &alpha, &beta, 1e-5)?
                .tanh()?
                .matmul(b)
        }),
        ("candle_nn::ops::rms_norm_slow", |x, a, b| {
            let h = x.matmul(a)?;
            let alpha = Tensor::ones(h.dim(1)?, h.dtype(), h.device())?;
            candle_nn::ops::rms_norm_slow(&h, &alpha, 1e-5)?
                .tanh()?
                .matmul(b)
        }),
    ];
    for (name, layer) in layers {
        check_layer(name, layer, &w1, &w2, &x);
    }
}

#[test]
fn image_layers_are_safe() {
    let kernel = var(4, (3, 2, 3, 3), 0.5, F64);
    let head = var(5, (12, 1), 0.5, F64);
    let x = tensor(6, (2, 2, 4, 4), 1.0, F64);
    let layers: [(&str, Layer); 3] = [
        ("conv2d + avg_pool2d", |x, k, v| {
            x.conv2d(k, 1, 1, 1, 1)?
                .tanh()?
                .avg_pool2d(2)?
                .flatten_from(1)?
                .matmul(v)
        }),
        ("conv2d stride 2 + upsample_nearest2d", |x, k, v| {
            let h = x.conv2d(k, 1, 2, 1, 1)?.upsample_nearest2d(4, 4)?;
            h.tanh()?.avg_pool2d(2)?.flatten_from(1)?.matmul(v)
        }),
        ("conv_transpose2d", |x, k, v| {
            let k = k.transpose(0, 1)?.contiguous()?;
            let h = x.avg_pool2d(2)?.conv_transpose2d(&k, 1, 0, 1, 1)?;
            h.tanh()?.flatten_from(1)?.narrow(1, 0, 12)?.matmul(v)
        }),
    ];
    for (name, layer) in layers {
        check_layer(name, layer, &kernel, &head, &x);
    }
}

#[test]
fn conv1d_second_order_is_an_error() {
    let kernel = var(7, (3, 2, 3), 0.5, F64);
    let head = var(8, (18, 1), 0.5, F64);
    let x = tensor(9, (2, 2, 6), 1.0, F64);
    let critic = |x: &Tensor| {
        x.conv1d(kernel.as_tensor(), 1, 1, 1, 1)?
            .tanh()?
            .flatten_from(1)?
            .matmul(head.as_tensor())
    };
    let r1 = ZeroCenteredConfig::default().build().unwrap();
    let output = r1.r1(critic, &x).unwrap();
    let message = output.term.backward().unwrap_err().to_string();
    assert!(message.contains("conv-transpose1d"), "{message}");
}

#[test]
fn max_pool2d_input_gradient_scaled() {
    // candle 0.11.1 multiplies the routed gradient by the window's fraction of maxima, 1/k² for
    // one maximum, so even the first-order input gradient is 1/k² of the true one.
    let kernel = 2;
    let x = tensor(10, (1, 1, 4, 4), 1.0, F64);
    let input = Var::from_tensor(&x).unwrap();
    let weights = tensor(11, (1, 1, 2, 2), 1.0, F64);
    let pooled_sum = |x: &Tensor| (x.max_pool2d(kernel)? * &weights)?.sum_all();

    let output = pooled_sum(input.as_tensor()).unwrap();
    let candle_gradient = flat(output.backward().unwrap().get(input.as_tensor()).unwrap());

    let base = flat(&x);
    let step = 1e-6;
    let at = |values: Vec<f64>| {
        let shifted = Tensor::from_vec(values, (1, 1, 4, 4), &Device::Cpu).unwrap();
        pooled_sum(&shifted).unwrap().to_scalar::<f64>().unwrap()
    };
    let differences: Vec<f64> = (0..base.len())
        .map(|i| {
            let (mut plus, mut minus) = (base.clone(), base.clone());
            plus[i] += step;
            minus[i] -= step;
            (at(plus) - at(minus)) / (2.0 * step)
        })
        .collect();
    let scaled: Vec<f64> = differences
        .iter()
        .map(|d| d / (kernel * kernel) as f64)
        .collect();
    assert!(differences.iter().any(|d| d.abs() > 0.1));
    assert_gradients_close(
        &[candle_gradient],
        &[scaled],
        1e-8,
        "max_pool2d input gradient",
    );
}

#[test]
fn fast_normalisation_ops_have_no_gradient() {
    // candle_nn's fused softmax_last_dim, layer_norm and rms_norm are applied without a backward,
    // so nothing reaches their input. The check runs in f32 because the CPU layer_norm and
    // rms_norm reject f64.
    let x = Var::from_tensor(&tensor(12, (2, 4), 1.0, DType::F32)).unwrap();
    let alpha = Tensor::ones(4, DType::F32, &Device::Cpu).unwrap();
    let beta = Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap();
    let weights = tensor(13, (2, 4), 1.0, DType::F32);
    let outputs = [
        (
            "softmax_last_dim",
            candle_nn::ops::softmax_last_dim(x.as_tensor()).unwrap(),
        ),
        (
            "layer_norm",
            candle_nn::ops::layer_norm(x.as_tensor(), &alpha, &beta, 1e-5).unwrap(),
        ),
        (
            "rms_norm",
            candle_nn::ops::rms_norm(x.as_tensor(), &alpha, 1e-5).unwrap(),
        ),
    ];
    for (name, output) in outputs {
        let loss = (output * &weights).unwrap().sum_all().unwrap();
        let gradients = loss.backward().unwrap();
        assert!(
            gradients.get(x.as_tensor()).is_none(),
            "{name} passed a gradient"
        );
    }
}
