//! The projection lag the service reports on `/metrics`: per projection, how long its oldest
//! event had been stored. Read from the histogram's buckets, so a percentile is the upper bound
//! of the bucket it falls in.

use std::io::{Read, Write};

/// (projections, p50 upper bound, p99 upper bound) in seconds; `None` when the build reports no
/// projection (one from before issue 19).
pub fn projection_lag(port: u16) -> Option<(u64, f64, f64)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let mut buckets: Vec<(f64, u64)> = text
        .lines()
        .filter_map(|line| line.strip_prefix("smartlead_hub_projection_lag_seconds_bucket{le=\""))
        .filter_map(|rest| {
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total == 0 {
        return None;
    }
    let quantile = |q: f64| {
        let rank = (q * total as f64).ceil() as u64;
        buckets
            .iter()
            .find(|(_, count)| *count >= rank)
            .map_or(f64::INFINITY, |(le, _)| *le)
    };
    Some((total, quantile(0.5), quantile(0.99)))
}
