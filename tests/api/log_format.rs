//! `SMARTLEAD_HUB_LOG_FORMAT=json`: the real binary logs one JSON object a line (what a log
//! shipper reads), with the request's fields and id; an unknown format is refused by name.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::process::prepared_db;

#[actix_web::test]
async fn json_logs_are_one_object_a_line_with_the_request_s_fields() {
    let (dir, db) = prepared_db();
    let log = dir.path().join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("SMARTLEAD_HUB_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let lines = || -> Vec<Value> {
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let mut address = None;
    for _ in 0..500 {
        address = lines()
            .iter()
            .find(|l| l["fields"]["message"] == "smartlead-hub listening")
            .map(|l| l["fields"]["address"].as_str().unwrap().to_owned());
        if address.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let address = address.expect("the listening line, as JSON");
    let response = crate::helpers::client()
        .get(format!("{address}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

    let logged = lines();
    let request = logged
        .iter()
        .find(|l| l["span"]["path"] == "/health")
        .unwrap_or_else(|| panic!("no request line for /health: {logged:?}"));
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["fields"]["status"], 200);
    assert_eq!(request["span"]["request_id"].as_str().unwrap().len(), 36);
    assert!(request["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(logged.iter().any(|l| l["fields"]["message"] == "stopped"));
}

#[test]
fn an_unknown_log_format_is_refused_by_name() {
    let output = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args(["migrate", "status", "--db", "/nonexistent/never-opened.db"])
        .env("SMARTLEAD_HUB_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SMARTLEAD_HUB_LOG_FORMAT must be text or json"),
        "{stderr}"
    );
}
