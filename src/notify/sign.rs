//! Signatures for webhook payloads: HMAC-SHA256 (RFC 2104) over the exact body bytes,
//! sent as `sha256=<lowercase hex>` so that a receiver can check that a notification came
//! from the function and was not altered on the way.
//!
//! Pure: computes over the bytes it is given.

/// HMAC-SHA256 of `message` under `key` (RFC 2104), by aws-lc (the TLS provider the
/// function already carries).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&key, message);
    let mut out = [0u8; 32];
    // An HMAC-SHA256 tag is 32 bytes.
    out.copy_from_slice(tag.as_ref());
    out
}

/// The signature header value for `body` under `secret`: `sha256=` followed by the
/// HMAC-SHA256 in lowercase hex (64 characters).
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body)))
}

/// Lowercase hex of `bytes`, two characters a byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 1: a 20-byte key of 0x0b.
    #[test]
    fn rfc4231_case_1() {
        let mac = hmac_sha256(&[0x0b; 20], b"Hi There");
        assert_eq!(
            hex(&mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    /// RFC 4231 test case 2: a key shorter than the output.
    #[test]
    fn rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// RFC 4231 test case 6: a 131-byte key, longer than the block, hashed first.
    #[test]
    fn rfc4231_case_6() {
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    /// The signature is `sha256=` and 64 lowercase hex characters.
    #[test]
    fn signature_has_prefix_and_hex() {
        let sig = signature("secret", b"{}");
        let hex_part = sig.strip_prefix("sha256=").expect("prefix");
        assert_eq!(hex_part.len(), 64);
        assert!(
            hex_part
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert_eq!(
            hex_part,
            "77325902caca812dc259733aacd046b73817372c777b8d95b402647474516e13"
        );
    }

    /// Hex encodes every byte as two lowercase digits.
    #[test]
    fn hex_encodes_bytes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }
}
