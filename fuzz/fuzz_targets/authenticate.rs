//! Any body and signature header through webhook authentication: it must never panic, and it
//! must never accept a signature that was not made with the secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartlead_hub::smartlead::{authenticate, WebhookSecret};

fuzz_target!(|input: (&[u8], &str, &str)| {
    let (body, header, secret) = input;
    let expected = WebhookSecret::new("fuzz-secret");
    let given = WebhookSecret::new(secret);
    let signed = authenticate(body, Some(header), None, Some(&expected));
    // 2^-256 odds aside, random headers do not verify.
    assert!(signed.is_err(), "accepted a forged signature");
    let by_body = authenticate(body, None, Some(&given), Some(&expected));
    assert_eq!(by_body.is_ok(), secret == "fuzz-secret");
});
