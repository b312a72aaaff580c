//! The `function-release-pipeline` binary: serves the function to Crossplane, or renders
//! example files in-process with the `render` subcommand.

use clap::Parser;
use function_release_pipeline::{cli, function::ReleaseFunction};

// Every call builds and drops many small JSON and protobuf values; under glibc's malloc
// the allocator was over a quarter of the server's CPU (perf, under load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    match cli.command {
        Some(cli::Command::Render(args)) => {
            let stdout = std::io::stdout();
            // Like `crossplane render` (v2.3+), a Fatal result prints nothing on stdout,
            // the error on stderr, and exits 1.
            function_release_pipeline::render_cli::run(&args, &mut stdout.lock()).await?;
        }
        None => {
            function_sdk_rust::logging::configure(cli.serve.debug);
            let limit = function_release_pipeline::memory::container_limit(std::path::Path::new(
                "/sys/fs/cgroup",
            ));
            let view_bytes =
                function_release_pipeline::memory::view_budget(limit, cli.view_budget_mib);
            tracing::info!(
                view_budget_mib = view_bytes >> 20,
                container_limit_mib = limit.map(|l| l >> 20),
                "repository views sized"
            );
            let function = ReleaseFunction::for_server(view_bytes);
            function_sdk_rust::Server::new(function, &cli.serve)
                .metrics_registry(function_release_pipeline::metrics::registry())
                .serve()
                .await?;
        }
    }
    Ok(())
}
