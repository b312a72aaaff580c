//! mTLS as Crossplane uses it: the server reads `tls.crt`, `tls.key` and `ca.crt` from
//! `--tls-certs-dir` (or `TLS_SERVER_CERTS_DIR`) and accepts only clients whose
//! certificate was signed by that CA.

use crate::common;

use std::path::Path;

use common::wire::{RequestMeta, RunFunctionRequest, State};
use common::{FunctionRunnerServiceClient, resource, start_server, wait_for_port};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn new_ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A leaf certificate and key (PEM) signed by `ca`.
fn leaf(ca: &Ca, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write_server_certs(dir: &Path, ca: &Ca) {
    let (crt, key) = leaf(
        ca,
        &["localhost", "function-release-pipeline"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    std::fs::write(dir.join("tls.crt"), crt).unwrap();
    std::fs::write(dir.join("tls.key"), key).unwrap();
    std::fs::write(dir.join("ca.crt"), &ca.pem).unwrap();
}

fn request() -> RunFunctionRequest {
    RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "mtls".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(resource(&json!({
                "apiVersion": "platform.zerotouch.dev/v1alpha1",
                "kind": "XReleasePipeline",
                "metadata": {"name": "p", "namespace": "platform-system"},
                "spec": {"tenant": "my-service", "environments": ["dev", "staging"]},
            }))),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Calls RunFunction over TLS trusting `server_ca`, presenting `identity` if any.
async fn call(
    port: u16,
    server_ca: &str,
    identity: Option<(String, String)>,
) -> Result<String, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server_ca))
        .domain_name("localhost");
    if let Some((crt, key)) = identity {
        tls = tls.identity(Identity::from_pem(crt, key));
    }
    let channel = Channel::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    let mut client = FunctionRunnerServiceClient::new(channel);
    client
        .run_function(request())
        .await
        .map(|r| r.into_inner().meta.unwrap_or_default().tag)
        .map_err(|e| format!("call: {e:?}"))
}

#[tokio::test]
async fn client_signed_by_the_ca_is_served_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca("crossplane-root-ca");
    write_server_certs(dir.path(), &ca);
    let server = start_server(&["--tls-certs-dir", dir.path().to_str().unwrap()], &[]);
    wait_for_port(server.port).await;

    let good = leaf(&ca, &["crossplane"], ExtendedKeyUsagePurpose::ClientAuth);
    assert_eq!(
        call(server.port, &ca.pem, Some(good)).await,
        Ok("mtls".to_string())
    );

    let refused = call(server.port, &ca.pem, None).await;
    assert!(
        refused.is_err(),
        "a client without a certificate must be refused: {refused:?}"
    );

    let other = new_ca("someone-else");
    let stranger = leaf(&other, &["crossplane"], ExtendedKeyUsagePurpose::ClientAuth);
    let refused = call(server.port, &ca.pem, Some(stranger)).await;
    assert!(
        refused.is_err(),
        "a client from another CA must be refused: {refused:?}"
    );
}

#[tokio::test]
async fn certificates_directory_is_read_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca("crossplane-root-ca");
    write_server_certs(dir.path(), &ca);
    let server = start_server(
        &[],
        &[("TLS_SERVER_CERTS_DIR", dir.path().to_str().unwrap())],
    );
    wait_for_port(server.port).await;
    let client = leaf(&ca, &["crossplane"], ExtendedKeyUsagePurpose::ClientAuth);
    assert_eq!(
        call(server.port, &ca.pem, Some(client)).await,
        Ok("mtls".to_string())
    );
}

#[tokio::test]
async fn insecure_wins_over_a_certificates_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(
        &[
            "--insecure",
            "--tls-certs-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    let mut client = common::connect_insecure(server.port).await;
    let rsp = client.run_function(request()).await.unwrap().into_inner();
    assert_eq!(rsp.meta.unwrap().tag, "mtls");
}
