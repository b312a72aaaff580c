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
            match function_release_pipeline::render_cli::run(&args, &mut stdout.lock()).await {
                Ok(()) => {}
                // Like `crossplane render`, a Fatal result exits with code 3.
                Err(e @ function_release_pipeline::render_cli::RenderError::Fatal(_)) => {
                    eprintln!("Error: {e}");
                    std::process::exit(3);
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => {
            function_sdk_rust::logging::configure(cli.serve.debug);
            let function = ReleaseFunction::for_server();
            function_sdk_rust::Server::new(function, &cli.serve)
                .metrics_registry(function_release_pipeline::metrics::registry())
                .serve()
                .await?;
        }
    }
    Ok(())
}
