//! Command-line arguments. With no subcommand the binary serves RunFunction with the
//! flags of the Crossplane function contract (`function_sdk_rust::Args`); `render` runs
//! the function in-process on YAML files, like `crossplane render`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// function-release-pipeline: release pipelines with promotion gates approved through
/// GitHub issues.
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: function_sdk_rust::Args,
    /// The most the repository views may hold, in MiB. Default: half of what the
    /// container's memory limit (cgroup) leaves after 40 MiB, between 8 and 256 MiB.
    #[arg(long, env = "VIEW_BUDGET_MIB", value_name = "MIB")]
    pub view_budget_mib: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render an XR through the function in-process and print the result as YAML.
    Render(RenderArgs),
}

/// Arguments of the `render` subcommand, named like `crossplane render`'s.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RenderArgs {
    /// The composite resource (XR) to render, a YAML file.
    pub xr: PathBuf,
    /// A Composition (mode Pipeline) holding a step that calls this function; its input
    /// and credentials are used.
    pub composition: Option<PathBuf>,
    /// The function Input, a YAML file; overrides the Composition step's input.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Observed composed resources: a YAML file (multi-document) or a directory of them.
    #[arg(short = 'o', long)]
    pub observed_resources: Option<PathBuf>,
    /// Resources that answer the function's requirements: a YAML file or a directory.
    #[arg(short = 'e', long, alias = "extra-resources")]
    pub required_resources: Option<PathBuf>,
    /// Secrets (v1/Secret YAML) matched to the step's credentials by name and namespace.
    #[arg(long)]
    pub function_credentials: Option<PathBuf>,
    /// Print the function's results as `kind: Result` documents.
    #[arg(short = 'r', long)]
    pub include_function_results: bool,
    /// Print the whole observed XR with the desired status, not only its identity.
    #[arg(short = 'x', long)]
    pub include_full_xr: bool,
    /// Print the pipeline context after the function ran.
    #[arg(short = 'c', long)]
    pub include_context: bool,
    /// Context values as KEY=JSON, repeatable.
    #[arg(long = "context-values", value_name = "KEY=JSON")]
    pub context_values: Vec<String>,
    /// The name of this function in the Composition's functionRef.
    #[arg(long, default_value = "function-release-pipeline")]
    pub function_name: String,
    /// The time the function sees as now (RFC 3339), for reproducible renders.
    #[arg(long)]
    pub now: Option<String>,
    /// Let the render write to GitHub (open, comment on, close and reopen approval
    /// issues). Without it, the render reads GitHub and says on stderr what it would
    /// have written.
    #[arg(long)]
    pub github_writes: bool,
}
