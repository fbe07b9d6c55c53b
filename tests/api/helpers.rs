use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use awc::error::PayloadError;
use futures_util::Stream;
use rusqlite::Connection;
use serde_json::Value;
use smartlead_hub::config::Settings;
use smartlead_hub::domain::{OrgId, UserId};
use smartlead_hub::startup::Application;
use smartlead_hub::storage::records::{NewUser, SmartleadCredentials};
use smartlead_hub::storage::Admin;
use smartlead_hub::storage::Database;

pub use crate::backends::{Backend, Cell, TestDb};

/// The org and secret the fixtures are written for (tests/fixtures/smartlead/README.md).
pub const ORG: &str = "fx-org-1001";
pub const SECRET: &str = "fx-secret-5d0c2a91-47e3-4b8e-a1f6-2c9e8d7b3a40";
pub const OTHER_SECRET: &str = "fx-secret-other-9e41b7d2-0c5a-4f63-8b1e-6a2d4c9f0e17";

pub struct TestApp {
    pub address: String,
    /// The SQLite file (an unused path on PostgreSQL).
    pub db_path: PathBuf,
    /// The database, on either backend.
    pub db: Database,
    /// The user owning `ORG`, with `SECRET` as its webhook secret.
    pub user_id: UserId,
    pub client: awc::Client,
    /// The highest `seq` a webhook answer gave this test: reads wait for it (`min_event`).
    pub last_seq: std::sync::atomic::AtomicI64,
    _db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server on a random port over a fresh SQLite file, with one user for `ORG`.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on_with(Backend::Sqlite, customize).await
}

pub async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn_app_on_with(backend, |_| {}).await
}

/// A server on a random port over a fresh database of `backend`, with one user for `ORG`.
pub async fn spawn_app_on_with(backend: Backend, customize: impl FnOnce(&mut Settings)) -> TestApp {
    // `TEST_LOG=1 cargo test …` shows the server's logs.
    if std::env::var_os("TEST_LOG").is_some() {
        smartlead_hub::telemetry::init().expect("a known log format");
    }
    let test_db = TestDb::new(backend);
    let mut settings = Settings::with_db(&test_db.db);
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.workers = 2;
    customize(&mut settings);

    let app = Application::build(&settings).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());

    let user_id = add_user(&test_db.db, "owner@northpeak.example", ORG, Some(SECRET));
    TestApp {
        address,
        db_path: test_db.path.clone(),
        db: test_db.db.clone(),
        user_id,
        client: client(),
        last_seq: Default::default(),
        _db: test_db,
    }
}

/// How long a test client keeps an idle connection for another request: less than the server's
/// keep-alive (actix-web's default, 5 s). awc's own default, 15 s, let a request after a pause of
/// 5 to 15 s (a CLI run, a database scan) go out on a socket the server had already closed, and
/// fail with `Connect(Disconnected)`: a failure of the test's client, not of the service.
const CLIENT_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// An HTTP client for a server under test. It waits up to 30 s for an answer, not awc's 5 s: on a
/// loaded 2-core CI machine a slow answer is not what any test checks (timing belongs in the
/// benchmarks), and a test that needs a bound sets its own.
pub fn client() -> awc::Client {
    patient_client(std::time::Duration::from_secs(30))
}

/// An HTTP client for a server under test that waits up to `timeout` for an answer.
pub fn patient_client(timeout: std::time::Duration) -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().conn_keep_alive(CLIENT_IDLE))
        .timeout(timeout)
        .finish()
}

/// Creates a user for `org`, with `secret` as its webhook secret when given.
pub fn add_user(db: impl Into<Database>, email: &str, org: &str, secret: Option<&str>) -> UserId {
    let db: Database = db.into();
    let org = OrgId::parse(org).unwrap();
    let user = admin(&db)
        .add_user(&NewUser {
            email,
            name: None,
            org_id: Some(&org),
            org_name: Some("Test org"),
        })
        .expect("user added");
    let id: UserId = user.id.parse().unwrap();
    if let Some(secret) = secret {
        set_webhook_secret(&db, id, secret);
    }
    id
}

/// Parses each (user, org, body) as the webhook does and stores them `batch` at a time, each
/// batch one transaction as the writer commits it (`Admin::ingest_batch`): for tests that
/// choose the batching.
pub fn ingest_in_batches(
    db: impl Into<Database>,
    deliveries: &[(UserId, String, Vec<u8>)],
    batch: usize,
) {
    let mut admin = admin(db);
    let received_at = smartlead_hub::domain::UtcTimestamp::now();
    for chunk in deliveries.chunks(batch.max(1)) {
        let events: Vec<_> = chunk
            .iter()
            .map(|(user, org, body)| {
                let event = smartlead_hub::smartlead::parse_delivery(body)
                    .unwrap()
                    .event(received_at)
                    .unwrap();
                (*user, OrgId::parse(org).unwrap(), event)
            })
            .collect();
        admin.ingest_batch(&events, received_at).unwrap();
    }
}

/// A new API token for the fixtures' user of the database at `db`.
pub fn issue_token(db: impl Into<Database>) -> String {
    let admin = admin(db);
    let user = admin
        .users()
        .unwrap()
        .into_iter()
        .find(|user| user.smartlead_org_id.as_deref() == Some(ORG))
        .expect("the fixtures' user");
    let (_, token) = admin
        .issue_token(user.id.parse().unwrap(), Some("test"), None)
        .unwrap();
    token.expose().to_owned()
}

/// Replaces the user's webhook secret in the file, as `credentials set` does.
pub fn set_webhook_secret(db: impl Into<Database>, user: UserId, secret: &str) {
    let credentials = SmartleadCredentials {
        webhook_secret: Some(secret.into()),
        api_key: None,
        ..Default::default()
    };
    admin(db)
        .set_smartlead_credentials(user, &credentials)
        .unwrap();
}

/// The database through the storage boundary the CLI uses (created and migrated if missing):
/// how tests arrange users, credentials, tokens and batches, on either backend.
pub fn admin(db: impl Into<Database>) -> Admin {
    Admin::open(db).expect("database opens")
}

/// The SQLite backend's own read-write connection to a migrated file: for the backend's own
/// tests (schema, rollups, the model), which call its functions directly.
pub fn backend_connection(path: &Path) -> Connection {
    use smartlead_hub::storage::sqlite::{migrations, open_read_write, DEFAULT_BUSY_TIMEOUT};
    let mut conn = open_read_write(path, DEFAULT_BUSY_TIMEOUT).expect("database opens");
    migrations::to_latest(&mut conn).expect("database migrates");
    conn
}

/// A plain SQLite connection to the file, as any outside reader would open one: for asserting
/// what is on disk. It runs no code of the service's.
pub fn inspect(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("database opens");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smartlead")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The `X-Smartlead-Signature` recorded for a fixture in SIGNATURES.tsv.
pub fn fixture_signature(name: &str) -> String {
    let table = String::from_utf8(fixture("SIGNATURES.tsv")).unwrap();
    table
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .find(|(file, _)| *file == name)
        .map(|(_, signature)| signature.to_owned())
        .unwrap_or_else(|| panic!("no signature for {name}"))
}

/// `X-Smartlead-Signature` for `body` under `secret`.
pub fn sign(body: &[u8], secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: actix_web::http::header::HeaderMap,
}

impl Answer {
    /// The `error.code` of an error answer.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }
}

impl TestApp {
    /// The SQLite file as an outside reader sees it (see [`inspect`]).
    pub fn sqlite(&self) -> Connection {
        inspect(&self.db_path)
    }

    pub fn webhook_url(&self, org: &str) -> String {
        format!("{}/api/webhooks/smartlead?org_id={org}", self.address)
    }

    pub async fn post_webhook(
        &self,
        org: &str,
        body: impl Into<Vec<u8>>,
        signature: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .post(self.webhook_url(org))
            .insert_header(("content-type", "application/json"));
        if let Some(signature) = signature {
            request = request.insert_header(("x-smartlead-signature", signature));
        }
        let answer = answer(request.send_body(body.into()).await.expect("request sent")).await;
        if let Some(seq) = answer.body["seq"].as_i64() {
            self.last_seq
                .fetch_max(seq, std::sync::atomic::Ordering::SeqCst);
        }
        answer
    }

    /// Posts `body` for `ORG`, signed with the fixtures' secret: the delivery is authentic
    /// whatever the body holds, so its own defects are what gets judged.
    pub async fn post_signed(&self, body: impl Into<Vec<u8>>) -> Answer {
        let body = body.into();
        let signature = sign(&body, SECRET);
        self.post_webhook(ORG, body, Some(&signature)).await
    }

    /// Posts a fixture file exactly as stored, for `ORG`.
    pub async fn deliver(&self, name: &str) -> Answer {
        self.post_webhook(ORG, fixture(name), None).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.address));
        answer(request.send().await.expect("request sent")).await
    }

    /// A GET with `Authorization: Bearer <token>`. The analytics trail the events by a
    /// projection; like a client reading its own writes, this passes the newest `seq` the test's
    /// deliveries were given as `min_event` (unless the path names one), so the answer includes
    /// them. [`TestApp::get_as_is`] reads without waiting.
    pub async fn get_as(&self, token: &str, path: &str) -> Answer {
        let seq = self.last_seq.load(std::sync::atomic::Ordering::SeqCst);
        if seq == 0 || path.contains("min_event=") || !path.starts_with("/api/") {
            return self.get_as_is(token, path).await;
        }
        let separator = if path.contains('?') { '&' } else { '?' };
        self.get_as_is(token, &format!("{path}{separator}min_event={seq}"))
            .await
    }

    /// A GET with `Authorization: Bearer <token>`, exactly this path.
    pub async fn get_as_is(&self, token: &str, path: &str) -> Answer {
        let request = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token);
        answer(request.send().await.expect("request sent")).await
    }

    /// Waits until the projector has applied every delivery this test was answered for, for
    /// tests that then look at the derived rows themselves.
    pub async fn projected(&self) {
        let seq = self.last_seq.load(std::sync::atomic::Ordering::SeqCst);
        let token = self.token_for(self.user_id);
        let waited = self
            .get_as_is(&token, &format!("/api/stats?min_event={seq}"))
            .await;
        assert_eq!(waited.status, StatusCode::OK, "{}", waited.body);
    }

    /// A new API token for `user`.
    pub fn token_for(&self, user: UserId) -> String {
        let (_, token) = admin(&self.db)
            .issue_token(user, Some("test"), None)
            .expect("token issued");
        token.expose().to_owned()
    }

    /// Held deliveries stored.
    pub fn held_count(&self) -> i64 {
        self.count("SELECT count(*) FROM held_deliveries")
    }

    /// Rows in every table the webhook writes to: proof that a refused request wrote nothing.
    pub fn write_counts(&self) -> [i64; 3] {
        ["email_events", "smartlead_events", "leads"]
            .map(|table| self.count(&format!("SELECT count(*) FROM {table}")))
    }

    /// Rows of `sql` on either backend, each column as text (see [`backends::rows`]).
    pub fn rows(&self, sql: &str, params: &[&str]) -> Vec<Vec<Cell>> {
        crate::backends::rows(&self.db, sql, params)
    }

    /// The number `sql` selects, on either backend.
    pub fn count(&self, sql: &str) -> i64 {
        crate::backends::count(&self.db, sql)
    }
}

pub async fn answer<S>(mut response: awc::ClientResponse<S>) -> Answer
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let bytes = response
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Answer {
        status: response.status(),
        body,
        headers: response.headers().clone(),
    }
}

/// A scenario's repetition count: `default` in `cargo test`, more from tests/soak.sh.
pub fn soak_count(variable: &str, default: u32) -> u32 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the real binary with `args`, then `--db db` when given: (success, stdout, stderr).
pub fn run_hub(args: &[&str], db: Option<&Path>) -> (bool, String, String) {
    run_hub_on(args, db.map(Database::from).as_ref())
}

/// [`run_hub`] on either backend.
pub fn run_hub_on(args: &[&str], db: Option<&Database>) -> (bool, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_smartlead-hub"));
    command.args(args);
    if let Some(db) = db {
        command.arg("--db").arg(match db {
            Database::Sqlite(path) => path.as_os_str().to_owned(),
            Database::Postgres(url) => url.expose().into(),
        });
    }
    let output = command.output().expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A GET of `path` on the service at `base` with `token`: its status and its body as text.
pub async fn read(base: &str, token: &str, path: &str) -> (StatusCode, String) {
    let mut response = client()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    let body = response.body().limit(64 << 20).await.unwrap();
    (response.status(), String::from_utf8(body.to_vec()).unwrap())
}

/// Posts a fixture file, as stored, for `ORG` to the service at `base`: its answer's status.
pub async fn post_fixture(base: &str, name: &str) -> String {
    post_body(base, fixture(name)).await
}

/// Posts `body` for `ORG` to the service at `base`; it must be answered 200: its status.
pub async fn post_body(base: &str, body: Vec<u8>) -> String {
    let mut response = client()
        .post(format!("{base}/api/webhooks/smartlead?org_id={ORG}"))
        .insert_header(("content-type", "application/json"))
        .send_body(body)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    body["status"].as_str().unwrap().to_owned()
}

/// The service on an existing file (seeded beforehand), on a random port.
pub struct Served {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

pub fn serve_file(db: impl Into<Database>, customize: impl FnOnce(&mut Settings)) -> Served {
    let mut settings = Settings::with_db(db);
    settings.bind = "127.0.0.1:0".parse().unwrap();
    customize(&mut settings);
    let app = Application::build(&settings).expect("the application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    Served {
        base,
        handle,
        running,
    }
}

impl Served {
    /// Stops the service and waits until it has let go of the file (its serve lock).
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.running.await.unwrap().unwrap();
    }
}
