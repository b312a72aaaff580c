//! XReleasePipeline: the golden responses, the example, and properties of its output.

#[path = "../common/mod.rs"]
mod common;

mod example;
mod goldens;
mod properties;
