//! The loss selected with `--loss`: any name that `LossConfig` parses, built into one `AnyLoss`
//! that serves both steps.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use gan_losses::{AnyLoss, LossConfig};

/// Parses `--loss` with `LossConfig::from_str`, so every alias is accepted, and lists the
/// canonical names of `LossConfig::NAMES` in `--help`.
#[derive(Debug, Clone, Copy)]
pub struct LossParser;

impl TypedValueParser for LossParser {
    type Value = LossConfig;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<LossConfig, clap::Error> {
        let flag = argument.map_or_else(|| "--loss".to_string(), ToString::to_string);
        let parsed = value
            .to_str()
            .ok_or_else(|| format!("invalid value for '{flag}': not valid UTF-8"))
            .and_then(|name| {
                name.parse::<LossConfig>()
                    .map_err(|error| format!("invalid value '{name}' for '{flag}': {error}"))
            });
        parsed.map_err(|message| {
            clap::Error::raw(ErrorKind::InvalidValue, format!("{message}\n")).with_cmd(command)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            LossConfig::NAMES.iter().copied().map(PossibleValue::new),
        ))
    }
}

/// Builds the loss of `config`; `real_weight` and `fake_weight` are the weighted-bce factors
/// and must be `None` for every other loss.
///
/// # Errors
/// When a weight is given for a loss other than weighted-bce, or when the library rejects an
/// option, for example a negative weight.
pub fn build(
    config: LossConfig,
    real_weight: Option<f64>,
    fake_weight: Option<f64>,
) -> Result<AnyLoss, String> {
    let config = match config {
        LossConfig::WeightedBce(options) => LossConfig::WeightedBce(
            options.with_group_weights(real_weight.unwrap_or(1.0), fake_weight.unwrap_or(1.0)),
        ),
        other if real_weight.is_some() || fake_weight.is_some() => {
            return Err(format!(
                "--real-weight and --fake-weight apply only to --loss weighted-bce, not {}",
                other.name()
            ));
        }
        other => other,
    };
    config.build().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use gan_losses::{DiscriminatorLoss, GeneratorLoss};

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[arg(long, value_parser = LossParser)]
        loss: LossConfig,
    }

    #[test]
    fn parser_accepts_names_and_aliases() {
        for name in LossConfig::NAMES {
            let flags = Flags::try_parse_from(["train", "--loss", name]);
            assert_eq!(flags.map(|f| f.loss.name()).ok(), Some(*name));
        }
        let alias = Flags::try_parse_from(["train", "--loss", "RA_LSGAN"]);
        assert_eq!(alias.map(|f| f.loss.name()).ok(), Some("ralsgan"));
    }

    #[test]
    fn parser_rejects_unknown_name() {
        let error = Flags::try_parse_from(["train", "--loss", "lsgan2"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidValue);
        assert!(error.to_string().contains("ra-hinge"), "{error}");
    }

    #[test]
    fn weights_only_for_weighted_bce() -> Result<(), Box<dyn std::error::Error>> {
        let hinge: LossConfig = "hinge".parse()?;
        let error = build(hinge, Some(2.0), None).unwrap_err();
        assert!(error.contains("weighted-bce, not hinge"), "{error}");
        let negative = build("weighted-bce".parse()?, Some(-1.0), None);
        assert!(negative.is_err());

        // Logits 0: each term is ln 2, so weights (3, 1) give 4 ln 2.
        let loss = build("weighted-bce".parse()?, Some(3.0), None)?;
        let device = candle_core::Device::Cpu;
        let zero = candle_core::Tensor::zeros(4, candle_core::DType::F64, &device)?;
        let d = loss.discriminator_loss(&zero, &zero)?.to_scalar::<f64>()?;
        assert!((d - 4.0 * std::f64::consts::LN_2).abs() < 1e-12, "{d}");
        Ok(())
    }

    #[test]
    fn relativistic_losses_need_real_logits() -> Result<(), Box<dyn std::error::Error>> {
        for name in LossConfig::NAMES {
            let loss = build(name.parse()?, None, None)?;
            let relativistic = matches!(*name, "rsgan" | "rasgan" | "ralsgan" | "ra-hinge");
            assert_eq!(loss.needs_real_logits(), relativistic, "{name}");
        }
        Ok(())
    }
}
