//! The losses, one module per family.

pub mod bce;
pub mod hinge;
