//! Webhook signatures: `X-Cobrowse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<body>"` with the endpoint's secret. The timestamp inside the signed text lets a
//! receiver refuse replays of old deliveries.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-cobrowse-signature";

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Checks a signature header (what a receiver does; used by the tests and documented).
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
            Some(("v1", value)) => given = Some(value),
            _ => {}
        }
    }
    match (timestamp, given) {
        (Some(t), Some(given)) => {
            let expected = signature(secret, t, body);
            crate::sessions::participant::constant_time_eq(expected.as_bytes(), format!("t={t},v1={given}").as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_detect_tampering() {
        let header = signature("s3cret", 1_800_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1800000000,v1="));
        assert!(verify("s3cret", &header, b"{\"a\":1}"));
        assert!(!verify("s3cret", &header, b"{\"a\":2}"));
        assert!(!verify("other", &header, b"{\"a\":1}"));
        assert!(!verify("s3cret", "v1=00", b"{\"a\":1}"));
    }

    #[test]
    fn the_digest_is_hmac_sha256() {
        // RFC 4231 test case 2, through our "<t>.<body>" framing: key "Jefe", data "0.what do ya want for nothing?".
        let header = signature("Jefe", 0, b"what do ya want for nothing?");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.what do ya want for nothing?");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(header, format!("t=0,v1={hex}"));
    }
}
