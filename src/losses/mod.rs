//! The losses, one module per family.

pub mod bce;
pub mod custom;
pub mod hinge;
pub mod least_squares;
pub mod relativistic;
pub mod sum;
pub mod wasserstein;
