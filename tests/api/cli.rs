//! The real binary, as an operator runs it.

use std::process::Command;

fn hub(args: &[&str]) -> (bool, String, String) {
    crate::helpers::run_hub(args, None)
}

#[test]
fn migrate_status_up_and_down_on_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let db = db.to_str().unwrap();

    let (ok, out, err) = hub(&["migrate", "status", "--db", db]);
    assert!(ok, "{err}");
    assert!(out.contains("schema version: 0"), "{out}");
    assert!(
        out.contains("20250108_001_smartlead_integration  pending"),
        "{out}"
    );

    let (ok, out, _) = hub(&["migrate", "up", "--db", db]);
    assert!(ok);
    let latest = crate::helpers::admin(dir.path().join("scratch.db"))
        .migration_names()
        .len();
    assert!(
        out.contains(&format!("schema version: {latest} (latest: {latest})")),
        "{out}"
    );
    assert!(!out.contains("pending"), "{out}");

    let (ok, out, _) = hub(&["migrate", "down", "--to", "1", "--db", db]);
    assert!(ok);
    assert!(out.contains("schema version: 1"), "{out}");

    let (ok, _, err) = hub(&["migrate", "down", "--to", "2", "--db", db]);
    assert!(!ok);
    assert!(err.contains("cannot roll back to 2"), "{err}");
}

#[test]
fn users_and_credentials_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let db = db.to_str().unwrap();

    let (ok, out, err) = hub(&[
        "users",
        "add",
        "--db",
        db,
        "--email",
        "Ops@Example.com",
        "--org-id",
        "org-7",
        "--org-name",
        "Seven",
    ]);
    assert!(ok, "{err}");
    let user_id = out.split_whitespace().nth(2).unwrap().to_owned();
    assert!(
        out.contains("<ops@example.com>") && out.contains("org-7"),
        "{out}"
    );

    let (ok, _, err) = hub(&[
        "users",
        "add",
        "--db",
        db,
        "--email",
        "other@example.com",
        "--org-id",
        "org-7",
    ]);
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");

    let (ok, out, _) = hub(&["users", "list", "--db", db]);
    assert!(ok);
    assert!(
        out.contains(&user_id) && out.contains("org-7") && out.contains("Seven"),
        "{out}"
    );

    let (ok, out, err) = hub(&[
        "credentials",
        "set-smartlead",
        "--db",
        db,
        "--user",
        &user_id,
        "--webhook-secret",
        "s3cret-value",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains(&user_id));
    assert!(
        !out.contains("s3cret-value") && !err.contains("s3cret-value"),
        "the secret is never echoed"
    );

    let (ok, _, err) = hub(&[
        "credentials",
        "set-smartlead",
        "--db",
        db,
        "--user",
        "00000000-0000-4000-8000-000000000000",
        "--webhook-secret",
        "x",
    ]);
    assert!(!ok);
    assert!(err.contains("user not found"), "{err}");
}

#[test]
fn help_documents_every_command() {
    let (ok, out, _) = hub(&["--help"]);
    assert!(ok);
    for word in [
        "serve",
        "migrate",
        "users",
        "credentials",
        "--db",
        "--bind",
        "SMARTLEAD_HUB_DB",
        "SMARTLEAD_HUB_BIND",
    ] {
        assert!(out.contains(word), "--help lacks {word}: {out}");
    }
    let (ok, out, _) = hub(&["migrate", "down", "--help"]);
    assert!(ok && out.contains("--to"), "{out}");
}

#[test]
fn tokens_issue_list_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let db = db.to_str().unwrap();
    let (_, out, _) = hub(&[
        "users",
        "add",
        "--db",
        db,
        "--email",
        "t@example.com",
        "--org-id",
        "org-t",
    ]);
    let user_id = out.split_whitespace().nth(2).unwrap().to_owned();

    let (ok, out, err) = hub(&[
        "tokens",
        "issue",
        "--db",
        db,
        "--user",
        &user_id,
        "--name",
        "dashboard",
    ]);
    assert!(ok, "{err}");
    let token_id = out.split_whitespace().nth(2).unwrap().to_owned();
    let token = out.lines().nth(1).unwrap().trim().to_owned();
    assert!(token.starts_with("slh_") && token.len() == 68, "{out}");
    assert!(err.contains("cannot be shown again"));

    let (ok, out, _) = hub(&["tokens", "list", "--db", db, "--user", &user_id]);
    assert!(
        ok && out.contains(&token_id) && out.contains("dashboard") && out.contains("never"),
        "{out}"
    );
    assert!(!out.contains(&token), "list never shows the secret");

    let (ok, out, _) = hub(&["tokens", "revoke", "--db", db, &token_id]);
    assert!(ok && out.contains("revoked"), "{out}");
    let (_, out, _) = hub(&["tokens", "list", "--db", db, "--user", &user_id]);
    assert!(
        !out.lines().nth(1).unwrap().trim_end().ends_with('-'),
        "revocation time shown: {out}"
    );

    let (ok, _, err) = hub(&[
        "tokens",
        "revoke",
        "--db",
        db,
        "00000000-0000-4000-8000-000000000000",
    ]);
    assert!(!ok && err.contains("token not found"), "{err}");
}

/// `smartlead-hub migrate status | head -1`: whoever reads the output may go away before it is
/// written. The command then ends quietly and successfully, without a panic on EPIPE. The read
/// end is closed before the command starts, so every write it makes fails.
#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    for args in [&["migrate", "status"][..], &["users", "list"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
            .args(args)
            .args(["--db", db.to_str().unwrap()])
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{stderr}"
        );
    }
}

/// A mistyped PostgreSQL URL is refused by name, with its password nowhere in the output,
/// whether it came as a flag or from the environment.
#[test]
fn a_bad_database_url_is_refused_without_showing_its_password() {
    let url = "postgres://hub:s3cret-pw@db.example:notaport/hub";
    let flag = hub(&["users", "list", "--db", url]);
    let env = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args(["users", "list"])
        .env("SMARTLEAD_HUB_DB", url)
        .output()
        .unwrap();
    let env = (
        env.status.success(),
        String::from_utf8_lossy(&env.stdout).into_owned(),
        String::from_utf8_lossy(&env.stderr).into_owned(),
    );
    for (ok, out, err) in [flag, env] {
        assert!(!ok);
        assert!(
            err.contains("not a valid PostgreSQL connection URL"),
            "{err}"
        );
        assert!(
            !out.contains("s3cret") && !err.contains("s3cret"),
            "{out}{err}"
        );
    }
}
