//! Any bytes through the Smartlead payload parser and mapper: an error is fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartlead_hub::domain::UtcTimestamp;
use smartlead_hub::smartlead::parse_delivery;

fuzz_target!(|data: &[u8]| {
    if let Ok(delivery) = parse_delivery(data) {
        let _ = delivery.event(UtcTimestamp::now());
    }
});
