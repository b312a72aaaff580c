//! Generates, from the pinned `proto/run_function.proto` and without a system protoc, the
//! gRPC client the tests and benchmarks use to check the wire independently of the SDK.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/run_function.proto");
    let files = protox::compile(["run_function.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(files)?;
    Ok(())
}
