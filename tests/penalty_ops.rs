mod penalty_support;

use candle_core::{DType, Tensor, Var};
use gan_losses::penalty::{PenaltyMode, ZeroCenteredConfig};
use penalty_support::*;

type D = Box<dyn Fn(&Tensor) -> candle_core::Result<Tensor>>;

fn gap_for(make: &dyn Fn(&[&Var]) -> D, params: &[&Var], x: &Tensor) -> (f64, f64, f64) {
    let r1 = ZeroCenteredConfig::default().with_gamma(2.0).build().unwrap();
    let d = make(params);
    let out = r1.r1(&d, x).unwrap();
    let exact = term_gradients(&out, params);
    let fd = central_differences(|| r1.r1(&d, x).map(|o| o.value), params, 1e-5);
    let (gap, _) = max_relative_gap(&exact, &fd);
    let ne: f64 = exact.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
    let nf: f64 = fd.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
    (gap, ne, nf)
}

#[test]
fn explore() {
    let f = DType::F64;
    let w1 = var(1, (3, 5), 1.0, f);
    let w2 = var(2, (5, 1), 1.0, f);
    let x = tensor(3, (4, 3), 1.0, f);
    let acts: Vec<(&str, fn(&Tensor) -> candle_core::Result<Tensor>)> = vec![
        ("tanh", |t| t.tanh()),
        ("relu", |t| t.relu()),
        ("leaky", |t| candle_nn::ops::leaky_relu(t, 0.2)),
        ("sigmoid", |t| candle_nn::ops::sigmoid(t)),
        ("silu", |t| t.silu()),
        ("gelu", |t| t.gelu()),
        ("gelu_erf", |t| t.gelu_erf()),
        ("elu", |t| t.elu(1.0)),
        ("softplus", |t| (t.exp()? + 1.0)?.log()),
        ("softmax_last_dim", |t| candle_nn::ops::softmax_last_dim(t)),
        ("softmax", |t| candle_nn::ops::softmax(t, 1)),
    ];
    for (name, act) in acts {
        let make = move |p: &[&Var]| -> D {
            let (a, b) = (p[0].as_tensor().clone(), p[1].as_tensor().clone());
            Box::new(move |x: &Tensor| act(&x.matmul(&a)?)?.matmul(&b))
        };
        println!("{name}: {:?}", gap_for(&make, &[&w1, &w2], &x));
    }
    let k = var(4, (3, 2, 3, 3), 0.5, f);
    let v = var(5, (12, 1), 0.5, f);
    let xi = tensor(6, (2, 2, 4, 4), 1.0, f);
    let convs: Vec<(&str, fn(&Tensor, &Tensor, &Tensor) -> candle_core::Result<Tensor>)> = vec![
        ("conv2d+avg", |x, k, v| x.conv2d(k, 1, 1, 1, 1)?.tanh()?.avg_pool2d(2)?.flatten_from(1)?.matmul(v)),
        ("conv2d+max", |x, k, v| x.conv2d(k, 1, 1, 1, 1)?.tanh()?.max_pool2d(2)?.flatten_from(1)?.matmul(v)),
        ("conv2d+up", |x, k, v| x.conv2d(k, 1, 2, 1, 1)?.upsample_nearest2d(2, 2)?.tanh()?.flatten_from(1)?.matmul(v)),
        ("convT", |x, k, v| x.avg_pool2d(2)?.conv_transpose2d(&k.transpose(0, 1)?.contiguous()?, 1, 0, 1, 1)?.tanh()?.avg_pool2d(1)?.flatten_from(1)?.narrow(1, 0, 12)?.matmul(v)),
    ];
    for (name, op) in convs {
        let make = move |p: &[&Var]| -> D {
            let (a, b) = (p[0].as_tensor().clone(), p[1].as_tensor().clone());
            Box::new(move |x: &Tensor| op(x, &a, &b))
        };
        println!("{name}: {:?}", gap_for(&make, &[&k, &v], &xi));
    }
    let k1 = var(7, (3, 2, 3), 0.5, f);
    let v1 = var(8, (18, 1), 0.5, f);
    let x1 = tensor(9, (2, 2, 6), 1.0, f);
    let make = |p: &[&Var]| -> D {
        let (a, b) = (p[0].as_tensor().clone(), p[1].as_tensor().clone());
        Box::new(move |x: &Tensor| x.conv1d(&a, 1, 1, 1, 1)?.tanh()?.flatten_from(1)?.matmul(&b))
    };
    let r1 = ZeroCenteredConfig::default().with_gamma(2.0).build().unwrap();
    let d = make(&[&k1, &v1]);
    match r1.r1(&d, &x1) { Ok(o) => { match o.term.backward() { Ok(_) => println!("conv1d: {:?}", gap_for(&make, &[&k1, &v1], &x1)), Err(e) => println!("conv1d backward err {e}") } } Err(e) => println!("conv1d err {e}") }
    let _ = PenaltyMode::Exact;
}
