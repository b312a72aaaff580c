//! Who is calling the fake: a token or an App's JWT, and the App keys tests sign with.

use super::*;

/// Who a request acts as.
pub(crate) enum Caller {
    User(String),
    App,
    Nobody,
}

pub(crate) fn caller(state: &State, headers: &HeaderMap) -> Caller {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Caller::Nobody;
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .unwrap_or("");
    if let Some(login) = state.users.get(token) {
        return Caller::User(login.clone());
    }
    if let (Some(expires), Some(app)) = (state.installation_tokens.get(token), &state.app) {
        if *expires > Utc::now() {
            return Caller::User(format!("{}[bot]", app.slug));
        }
        return Caller::Nobody;
    }
    if let Some(app) = &state.app
        && jwt_issuer(token, &app.public_key)
            .is_some_and(|(iss, exp)| iss == app.id && exp > Utc::now().timestamp())
    {
        return Caller::App;
    }
    Caller::Nobody
}

/// The `iss` and `exp` of an RS256 JWT whose signature verifies with `public_key`.
pub(crate) fn jwt_issuer(token: &str, public_key: &[u8]) -> Option<(u64, i64)> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let alg: Value = serde_json::from_slice(&b64.decode(header).ok()?).ok()?;
    if alg["alg"] != "RS256" {
        return None;
    }
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(
        format!("{header}.{payload}").as_bytes(),
        &b64.decode(signature).ok()?,
    )
    .ok()?;
    let payload = b64.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&payload).ok()?;
    let iss = match &claims["iss"] {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((iss, claims["exp"].as_i64()?))
}

/// A GitHub App private key, in both PEM forms GitHub hands out or users convert to.
pub struct AppKeys {
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8).
    pub pkcs8: String,
    /// `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1).
    pub pkcs1: String,
    /// The public key (PKCS#1 `RSAPublicKey` DER), for [`FakeApp::public_key`].
    pub public: Vec<u8>,
}

/// A 2048-bit RSA key generated once per test binary (aws-lc-rs through rcgen; no
/// network, no openssl).
pub fn app_keys() -> &'static AppKeys {
    static KEYS: std::sync::OnceLock<AppKeys> = std::sync::OnceLock::new();
    KEYS.get_or_init(generate_app_keys)
}

/// A new 2048-bit RSA key.
pub fn generate_app_keys() -> AppKeys {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
    let pkcs8 = pair.serialize_der();
    let pkcs1 = pkcs1_of(&pkcs8);
    AppKeys {
        pkcs8: pair.serialize_pem(),
        pkcs1: pem("RSA PRIVATE KEY", &pkcs1),
        public: pair.public_key_raw().to_vec(),
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`: the OCTET STRING that
/// follows the version and the algorithm identifier.
pub(crate) fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    // (tag, start of content, end of content) of the DER element at `at`.
    pub(crate) fn element(der: &[u8], at: usize) -> (u8, usize, usize) {
        let tag = der[at];
        let first = der[at + 1] as usize;
        if first < 0x80 {
            (tag, at + 2, at + 2 + first)
        } else {
            let n = first & 0x7f;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (tag, at + 2 + n, at + 2 + n + len)
        }
    }
    let (_, body, _) = element(pkcs8, 0);
    let (_, _, after_version) = element(pkcs8, body);
    let (_, _, after_algorithm) = element(pkcs8, after_version);
    let (tag, start, end) = element(pkcs8, after_algorithm);
    assert_eq!(tag, 0x04, "PKCS#8 private key is an OCTET STRING");
    pkcs8[start..end].to_vec()
}

pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
