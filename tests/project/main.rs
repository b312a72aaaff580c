//! The repository as a whole: the shape of `src/`, the examples, the package and the
//! Input CRD.

#[path = "../common/mod.rs"]
mod common;

mod architecture;
mod cel;
mod examples;
mod graphql;
mod input_crd;
mod monitoring;
mod package;
mod xrd;
