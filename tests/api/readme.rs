//! README's tables are part of the interface: each flag's environment variable and default,
//! and each error code's status, are checked against the code, and every documented variable
//! is shown to reach the real binary.

use std::collections::BTreeMap;
use std::process::Command;

use clap::{Args, Command as Cli};
use smartlead_hub::config::Settings;
use smartlead_hub::http::ErrorCode;

use crate::outside_commands::exits_within_a_minute;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The cells of the rows of the table whose header starts with `header`.
fn table(readme: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(2);
    let mut rows = Vec::new();
    for line in lines.by_ref().take_while(|l| l.starts_with('|')) {
        let line = line.replace("\\|", "¦");
        let cells = line.trim_matches('|').split('|');
        rows.push(
            cells
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect(),
        );
    }
    assert!(!rows.is_empty(), "no table under {header}");
    rows
}

/// flag → (environment variable, default) as README documents them.
fn documented_flags() -> BTreeMap<String, (String, Option<String>)> {
    table(&readme(), "| flag | environment |")
        .into_iter()
        .map(|cells| {
            let flag = cells[0].split([' ', '`']).next().unwrap().to_owned();
            let default = (cells[2] != "none").then(|| cells[2].clone());
            (flag, (cells[1].clone(), default))
        })
        .collect()
}

#[test]
fn the_flag_table_is_the_service_settings() {
    let command = Settings::augment_args(Cli::new("smartlead-hub"));
    let in_code: BTreeMap<String, (String, Option<String>)> = command
        .get_arguments()
        .filter_map(|arg| {
            let flag = format!("--{}", arg.get_long()?);
            let env = arg.get_env()?.to_string_lossy().into_owned();
            let default = arg
                .get_default_values()
                .first()
                .map(|d| d.to_string_lossy().into_owned());
            Some((flag, (env, default)))
        })
        .collect();
    assert_eq!(documented_flags(), in_code);
}

#[test]
fn the_error_table_is_the_code_table() {
    let documented: BTreeMap<String, u16> = table(&readme(), "| code | status |")
        .into_iter()
        .flat_map(|cells| {
            let status: u16 = cells[1].parse().unwrap();
            // A row may name two codes: `a` / `b`.
            let codes: Vec<String> = cells[0]
                .split(" / ")
                .map(|c| c.trim_matches('`').to_owned())
                .collect();
            codes.into_iter().map(move |code| (code, status))
        })
        .collect();
    let in_code: BTreeMap<String, u16> = ErrorCode::ALL
        .iter()
        .map(|code| (code.name().to_owned(), code.status().as_u16()))
        .collect();
    assert_eq!(documented, in_code);
}

#[test]
fn the_held_reason_table_is_the_mapper_s_codes() {
    let documented: Vec<String> = table(&readme(), "| reason | when |")
        .into_iter()
        .flat_map(|cells| {
            let codes: Vec<String> = cells[0]
                .split(" / ")
                .map(|c| c.trim_matches('`').to_owned())
                .collect();
            codes
        })
        .collect();
    let in_code: Vec<String> = smartlead_hub::smartlead::MappingError::CODES
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(documented, in_code);
}

/// Each variable reaches the binary: a value it cannot take makes `serve` refuse to start and
/// name the setting (and `SMARTLEAD_HUB_DB` chooses the file every subcommand opens).
#[test]
fn every_documented_environment_variable_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, (env, _)) in documented_flags() {
        if env == "SMARTLEAD_HUB_DB" {
            let db = dir.path().join("from-env.db");
            let status = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
                .args(["migrate", "status"])
                .env("SMARTLEAD_HUB_DB", &db)
                .output()
                .unwrap();
            assert!(status.status.success() && db.exists(), "{env}");
            continue;
        }
        // Not a number, an address or a mode; and an empty secret or token is refused by name.
        let value = if env == "SMARTLEAD_HUB_WEBHOOK_SECRET" || env == "SMARTLEAD_HUB_METRICS_TOKEN"
        {
            ""
        } else {
            "not-a-value"
        };
        let mut serve = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"));
        serve.args(["serve", "--db"]).arg(dir.path().join("hub.db"));
        if env != "SMARTLEAD_HUB_BIND" {
            serve.args(["--bind", "127.0.0.1:0"]);
        }
        serve.env(&env, value);
        let output = exits_within_a_minute(serve);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{env}={value:?} was accepted");
        assert!(
            stderr.contains(&flag) || stderr.contains(&env),
            "{env}: {stderr}"
        );
    }
}

/// The `key=` settings of the systemd unit README shows as `/etc/systemd/system/{name}`.
fn unit(readme: &str, name: &str) -> BTreeMap<String, String> {
    readme
        .lines()
        .skip_while(|l| *l != format!("# /etc/systemd/system/{name}"))
        .skip(1)
        .take_while(|l| !l.starts_with("```") && !l.starts_with("# /etc/"))
        .filter_map(|l| l.split_once('='))
        .filter(|(key, _)| !key.starts_with('#'))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// The systemd units under "Running as a service": the service's `ExecStart` runs as written
/// (its file and address moved to a temporary folder and a free port), serves until SIGTERM and
/// stops with status 0; systemd restarts it on the status `--exit-on-storage-fault` exits with,
/// and waits longer than the service's own grace period before killing it. The backup unit's
/// command, run beside it, writes a whole copy and deletes the copies past two weeks.
#[actix_web::test]
async fn the_readme_s_systemd_units_run_as_written() {
    let readme = readme();
    let service = unit(&readme, "smartlead-hub.service");
    assert_eq!(service["Restart"], "on-failure");
    let stop_timeout: u64 = service["TimeoutStopSec"].parse().unwrap();
    let grace: u64 = Settings::augment_args(Cli::new("smartlead-hub"))
        .get_arguments()
        .find(|a| a.get_long() == Some("shutdown-timeout-secs"))
        .and_then(|a| a.get_default_values().first()?.to_str()?.parse().ok())
        .unwrap();
    assert!(stop_timeout > grace, "{stop_timeout} s against {grace} s");

    let words: Vec<&str> = service["ExecStart"].split_whitespace().collect();
    assert_eq!(words[..2], ["/usr/local/bin/smartlead-hub", "serve"]);
    assert!(words.contains(&"--exit-on-storage-fault"));
    // --db and --bind are the test's own (HubProcess passes them); everything else as written.
    let mut extra = Vec::new();
    let mut rest = words[2..].iter();
    while let Some(word) = rest.next() {
        match *word {
            "--db" => assert_eq!(rest.next(), Some(&"/var/lib/smartlead-hub/hub.db")),
            "--bind" => {
                rest.next();
            }
            word => extra.push(word),
        }
    }
    let (dir, db) = crate::process::prepared_db();
    let hub = crate::process::HubProcess::start(&db, &extra);
    let ready = format!("http://127.0.0.1:{}/ready", hub.port);
    assert_eq!(crate::outside_commands::get(ready, None).await.0, 200);

    // The backup, with systemd's `%%` as `%` and the state directory as the test's.
    let backup = unit(&readme, "smartlead-hub-backup.service");
    let script = backup["ExecStart"]
        .strip_prefix("/bin/sh -c '")
        .and_then(|s| s.strip_suffix('\''))
        .expect("a sh -c command")
        .replace("%%", "%")
        .replace(
            "/usr/local/bin/smartlead-hub",
            env!("CARGO_BIN_EXE_smartlead-hub"),
        )
        .replace("/var/lib/smartlead-hub", dir.path().to_str().unwrap());
    let copies = dir.path().join("backups");
    std::fs::create_dir(&copies).unwrap();
    let old = copies.join("hub-20200101T000000.db");
    std::fs::write(&old, b"an old copy").unwrap();
    let month_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(month_ago)
        .unwrap();
    let output = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert!(output.status.success(), "{script}: {output:?}");
    let left: Vec<String> = std::fs::read_dir(&copies)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with("hub-2") && left[0].ends_with(".db"),
        "{left:?}"
    );
    let copy = rusqlite::Connection::open(copies.join(&left[0])).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert!(hub.terminate().success());
}
