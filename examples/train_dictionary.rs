//! Trains the built-in payload dictionary (`src/storage/sqlite/payloads/builtin.dict`) from the
//! real-shaped webhook bodies in `tests/fixtures/smartlead/`:
//!
//!     cargo run --release --example train_dictionary
//!
//! A new install compresses its first events with it; `smartlead-hub payloads train` later
//! trains one on the install's own payloads. The samples are what the hub stores (`event_data`:
//! the body without its `secret_key`, compact), each fixture many times over with its digits
//! and addresses varied, because real deliveries share their keys, URLs and wording, not
//! their ids. Deterministic: the same fixtures give the same dictionary.

use std::path::Path;

/// The dictionary's size: big enough for every payload shape's keys and boilerplate.
const DICTIONARY_BYTES: usize = 16 * 1024;
/// Samples per fixture.
const VARIANTS: usize = 300;
const OUT: &str = "src/storage/sqlite/payloads/builtin.dict";

const NAMES: [&str; 8] = [
    "maria.gonzalez",
    "j.smith",
    "wei.zhang",
    "a.kowalski",
    "priya.nair",
    "tom",
    "sales-team",
    "o.brien",
];
const DOMAINS: [&str; 6] = [
    "acme-logistics.com",
    "example.org",
    "northwind.io",
    "mueller-soehne.de",
    "contoso.co.uk",
    "globex.net",
];

/// A small deterministic generator (xorshift64*): no dependency for a build-time tool.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// The fixture's value with its ids varied: every digit replaced, and addresses swapped.
fn vary(value: &serde_json::Value, rng: &mut Rng) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('@') && !s.contains(' ') && !s.starts_with('<') => {
            Value::String(format!("{}@{}", rng.pick(&NAMES), rng.pick(&DOMAINS)))
        }
        Value::String(s) => Value::String(
            s.chars()
                .map(|c| match c {
                    '0'..='9' => char::from(b'0' + (rng.next() % 10) as u8),
                    c => c,
                })
                .collect(),
        ),
        Value::Number(n) if n.is_u64() => {
            let digits = n.to_string().len() as u32;
            let low = 10u64.pow(digits.saturating_sub(1));
            Value::from(low + rng.next() % (low * 9).max(1))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| vary(v, rng)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), vary(v, rng))).collect())
        }
        other => other.clone(),
    }
}

fn main() {
    let mut fixtures = Vec::new();
    for entry in std::fs::read_dir("tests/fixtures/smartlead").expect("run from the repository") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let mut body: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            body.remove("secret_key");
            fixtures.push((path, serde_json::Value::Object(body)));
        }
    }
    fixtures.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = Rng(0x5348_5542_4449_4354);
    let samples: Vec<String> = (0..VARIANTS)
        .flat_map(|_| {
            fixtures
                .iter()
                .map(|(_, body)| body.clone())
                .collect::<Vec<_>>()
        })
        .map(|body| serde_json::to_string(&vary(&body, &mut rng)).unwrap())
        .collect();
    let dictionary = zstd::dict::from_samples(&samples, DICTIONARY_BYTES).expect("trained");
    std::fs::write(Path::new(OUT), &dictionary).unwrap();

    // How it does on one fresh variant of each fixture, against no dictionary.
    let (mut plain, mut without, mut with) = (0, 0, 0);
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &dictionary).unwrap();
    for (_, body) in &fixtures {
        let sample = serde_json::to_string(&vary(body, &mut rng)).unwrap();
        plain += sample.len();
        without += zstd::bulk::compress(sample.as_bytes(), 3).unwrap().len();
        with += compressor.compress(sample.as_bytes()).unwrap().len();
    }
    println!(
        "{OUT}: {} bytes from {} samples of {} fixtures; fresh variants: {plain} bytes plain, \
         {without} with zstd alone, {with} with the dictionary",
        dictionary.len(),
        samples.len(),
        fixtures.len()
    );
}
