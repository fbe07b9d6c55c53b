//! A small client for Smartlead's REST API (docs/SMARTLEAD-REST.md §1): the API key goes in the
//! query string, so it is added last and never appears in an error, a log line or a panic.
//! Requests are paced under the documented 60 per minute; a 429 or a 5xx is retried after its
//! `Retry-After` (or a growing pause), a few times, then reported.

use std::thread::sleep;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use ureq::Agent;

pub const DEFAULT_BASE: &str = "https://server.smartlead.ai/api/v1";

/// Smartlead documents 60 requests per 60 s per key: one request per second stays under it.
const PACE: Duration = Duration::from_millis(1_000);
const ATTEMPTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("Smartlead refused the API key ({status}): set it with `smartlead-hub credentials set-smartlead --api-key`")]
    Unauthorized { status: u16 },
    #[error("Smartlead answered {status} to {method} {path}: {message}")]
    Status {
        status: u16,
        method: &'static str,
        path: String,
        message: String,
    },
    #[error("Smartlead could not be reached for {method} {path}: {reason}")]
    Transport {
        method: &'static str,
        path: String,
        reason: String,
    },
    #[error("Smartlead's answer to {method} {path} is not what was expected: {reason}")]
    Shape {
        method: &'static str,
        path: String,
        reason: String,
    },
}

pub struct SmartleadClient {
    agent: Agent,
    base: String,
    api_key: String,
    last: Option<Instant>,
    pace: Duration,
    /// When Smartlead said the budget is spent (`x-ratelimit-remaining: 0`), when it refills.
    not_before: Option<Instant>,
    /// The first pause before a retry without `Retry-After`; it doubles each time.
    first_pause: Duration,
}

impl SmartleadClient {
    pub fn new(base: &str, api_key: String) -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        // A local base (the tests' fake Smartlead) is not paced.
        let local = base.starts_with("http://127.0.0.1") || base.starts_with("http://localhost");
        Self {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            api_key,
            last: None,
            pace: if local { Duration::ZERO } else { PACE },
            not_before: None,
            first_pause: if local {
                Duration::from_millis(50)
            } else {
                Duration::from_secs(2)
            },
        }
    }

    /// `GET {base}{path}` as JSON. `path` must not carry a query string of its own.
    pub fn get<T: DeserializeOwned>(&mut self, path: &str) -> Result<T, ClientError> {
        self.call("GET", path, &[], None)
    }

    /// `GET {base}{path}?name=value…` as JSON.
    pub fn get_with<T: DeserializeOwned>(
        &mut self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        self.call("GET", path, query, None)
    }

    /// `POST {base}{path}` with a JSON body, the answer as JSON.
    pub fn post<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ClientError> {
        self.call("POST", path, &[], Some(body))
    }

    fn call<T: DeserializeOwned>(
        &mut self,
        method: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let mut pause = self.first_pause;
        for attempt in 1..=ATTEMPTS {
            if let Some(last) = self.last {
                sleep(self.pace.saturating_sub(last.elapsed()));
            }
            if let Some(at) = self.not_before.take() {
                sleep(at.saturating_duration_since(Instant::now()));
            }
            self.last = Some(Instant::now());
            let url = format!("{}{path}", self.base);
            let pairs = query.iter().map(|(k, v)| (*k, v.as_str()));
            let sent = match body {
                Some(body) => self
                    .agent
                    .post(&url)
                    .query_pairs(pairs)
                    .query("api_key", &self.api_key)
                    .send_json(body),
                None => self
                    .agent
                    .get(&url)
                    .query_pairs(pairs)
                    .query("api_key", &self.api_key)
                    .call(),
            };
            let answer = sent.map_err(|err| ClientError::Transport {
                method,
                path: path.to_owned(),
                // ureq's message may quote the URL, key included: keep only its kind.
                reason: transport_reason(&err),
            });
            // A POST that failed on the way may have been applied: it is not sent again (a
            // second webhook would be created); a 429 means it was not.
            let retryable = method == "GET";
            let mut response = match answer {
                Ok(response) => response,
                Err(err) if retryable && attempt < ATTEMPTS => {
                    tracing::warn!(error = %err, "retrying a Smartlead request");
                    sleep(jitter(pause));
                    pause *= 2;
                    continue;
                }
                Err(err) => return Err(err),
            };
            let status = response.status().as_u16();
            self.obey_budget(response.headers());
            if status == 401 || status == 403 {
                return Err(ClientError::Unauthorized { status });
            }
            if (status == 429 || (status >= 500 && retryable)) && attempt < ATTEMPTS {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(jitter(pause), |s| Duration::from_secs(s.min(120)));
                tracing::warn!(
                    status,
                    wait_s = wait.as_secs(),
                    "Smartlead asked to wait; retrying"
                );
                sleep(wait);
                pause *= 2;
                continue;
            }
            if !(200..300).contains(&status) {
                let body = response.body_mut().read_to_string().unwrap_or_default();
                return Err(ClientError::Status {
                    status,
                    method,
                    path: path.to_owned(),
                    message: crate::domain::Echo(body.trim()).to_string(),
                });
            }
            return response
                .body_mut()
                .with_config()
                .limit(32 * 1024 * 1024)
                .read_json()
                .map_err(|err| ClientError::Shape {
                    method,
                    path: path.to_owned(),
                    reason: err.to_string(),
                });
        }
        unreachable!("the last attempt returns")
    }
}

impl SmartleadClient {
    /// Smartlead's `x-ratelimit-remaining`/`x-ratelimit-reset`: with nothing left, the next
    /// request waits for the reset (seconds, capped at two minutes).
    fn obey_budget(&mut self, headers: &ureq::http::HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if number("x-ratelimit-remaining") == Some(0) {
            let wait = Duration::from_secs(number("x-ratelimit-reset").unwrap_or(60).min(120));
            self.not_before = Some(Instant::now() + wait);
        }
    }
}

/// `pause` plus up to a quarter more, so that several clients do not retry in step.
fn jitter(pause: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    pause + pause.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

fn transport_reason(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Tls(_) => "TLS failed".into(),
        _ => "transport error".into(),
    }
}
