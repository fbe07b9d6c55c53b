//! Outside programs as the outside-tools tests run them: Debian's `sqlite3` shell, Python's
//! `sqlite3`, the project's CLI, a `serve` expected to refuse, and a disk fault.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

pub fn companion(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

/// Runs a command to completion off the async executor (the load keeps running meanwhile).
pub async fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    let output = actix_web::rt::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("{shown} did not start ({e}); the sqlite3 shell and python3 are required (.ci/run installs sqlite3)")
        });
    assert!(
        output.status.success(),
        "{shown} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn sqlite3_shell(db: &Path, sql: &str) -> Command {
    let mut command = Command::new("sqlite3");
    command.arg(db).arg(sql);
    command
}

pub fn hub_cli(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"));
    command.args(args).args(["--db", db.to_str().unwrap()]);
    command
}

/// `tokens issue` for the fixtures' user, whose id a `sqlite3` shell looks up first.
pub fn issue_token_command(db: &Path) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(format!(
        "\"$0\" tokens issue --db '{db}' --user \"$(sqlite3 '{db}' \"SELECT id FROM users WHERE email = 'owner@northpeak.example'\")\"",
        db = db.display()
    ));
    command.arg(env!("CARGO_BIN_EXE_smartlead-hub"));
    command
}

/// The token in `tokens issue`'s output (its last line).
pub fn token_printed(issued: &Output) -> String {
    let printed = String::from_utf8_lossy(&issued.stdout);
    printed.lines().last().unwrap_or_default().trim().to_owned()
}

/// A Python process that opens, reads and closes a connection `times` times.
pub fn python_reads(db: &Path, times: u32) -> Command {
    let mut command = Command::new("python3");
    command.args([
        "-c",
        "import sqlite3, sys\n\
         for _ in range(int(sys.argv[2])):\n\
         \x20   conn = sqlite3.connect(sys.argv[1])\n\
         \x20   conn.execute('SELECT count(*) FROM email_events').fetchone()\n\
         \x20   conn.close()\n\
         print(sqlite3.sqlite_version)",
    ]);
    command.arg(db).arg(times.to_string());
    command
}

/// Runs `serve` on `db`, which should refuse to start.
pub fn serve_expecting_refusal(db: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"));
    command.args([
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
    ]);
    exits_within_a_minute(command)
}

/// Runs a command that should end by itself (a refused start): one still running after a
/// minute is killed and the test fails, rather than hangs.
pub fn exits_within_a_minute(mut command: Command) -> Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    panic!(
        "{command:?} kept running: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A Python session that stays open while the service commits: it reads, waits, reads again
/// (seeing the new commits), then closes.
pub fn python_session(db: &Path) -> Command {
    let mut command = Command::new("python3");
    command.args([
        "-c",
        "import sqlite3, sys, time\n\
         conn = sqlite3.connect(sys.argv[1])\n\
         before = conn.execute('SELECT count(*) FROM email_events').fetchone()[0]\n\
         time.sleep(0.5)\n\
         after = conn.execute('SELECT count(*) FROM email_events').fetchone()[0]\n\
         conn.close()\n\
         assert after > before, (before, after)",
    ]);
    command.arg(db);
    command
}

pub fn assert_companions_exist(db: &Path, after: &str) {
    for suffix in ["-wal", "-shm"] {
        assert!(
            companion(db, suffix).exists(),
            "{suffix} was deleted under the running service by: {after}"
        );
    }
}

pub async fn get(url: String, token: Option<&str>) -> (u16, Value) {
    let client = crate::helpers::client();
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await.unwrap();
    let body = response.body().await.unwrap();
    (
        response.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// Overwrites the first page of `table`'s b-tree with garbage, as a disk fault would.
pub fn damage_first_page(db: &Path, table: &str) {
    use std::os::unix::fs::FileExt;
    let root = run_now(sqlite3_shell(
        db,
        &format!("SELECT rootpage FROM sqlite_schema WHERE name = '{table}'"),
    ));
    let root: u64 = String::from_utf8(root.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let page = run_now(sqlite3_shell(db, "PRAGMA page_size"));
    let page: u64 = String::from_utf8(page.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    file.write_all_at(&vec![0xA5; page as usize], (root - 1) * page)
        .unwrap();
    file.sync_all().unwrap();
}

pub fn run_now(mut command: Command) -> Output {
    let output = command.output().expect("the command starts");
    assert!(output.status.success(), "{command:?}: {output:?}");
    output
}
