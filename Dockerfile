# syntax=docker/dockerfile:1
# The runtime image of function-release-pipeline. The binary is the ENTRYPOINT, so
# `crossplane render`'s Docker runtime can start it with the single argument --insecure.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits don't rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto proto
# Cargo.toml names the bench targets; their sources must exist for the manifest to load.
COPY benches benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin function-release-pipeline \
    && rm -rf src
COPY src src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin function-release-pipeline \
    && cp target/release/function-release-pipeline /function

# distroless/cc: glibc and libgcc for the Rust binary, CA certificates for GitHub,
# and the nonroot user (uid 65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /function /function
EXPOSE 9443
USER nonroot:nonroot
ENTRYPOINT ["/function"]
