//! `docs/prometheus-alerts.yml`: Prometheus's own tool checks the rules and runs their unit tests
//! (`docs/prometheus-alerts.test.yml`), and every series and label value the rules name is one
//! the service exposes, so that a renamed metric or error code cannot leave an alert that never
//! fires. (`metrics.rs` checks what the running service serves.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use smartlead_hub::http::{ErrorCode, Metrics};
use smartlead_hub::storage::StorageMetrics;

fn docs() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/docs"))
}

fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(docs())
        .output()
        .expect("promtool runs (Debian's prometheus package; .ci/run installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn promtool_accepts_the_rules_and_their_unit_tests_pass() {
    let checked = promtool(&["check", "rules", "prometheus-alerts.yml"]);
    assert!(checked.contains("SUCCESS: 15 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "prometheus-alerts.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// The words of `text` that start with `prefix`, up to the first character a metric name
/// cannot hold.
fn names(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// The values the rules match `label` against: `label="a"` and `label=~"a|b"`.
fn label_values(rules: &str, label: &str) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for operator in ["=\"", "=~\""] {
        for (at, _) in rules.match_indices(&format!("{label}{operator}")) {
            let start = at + label.len() + operator.len();
            let end = start + rules[start..].find('"').unwrap();
            values.extend(rules[start..end].split('|').map(str::to_owned));
        }
    }
    values
}

/// Checked against the service's own registry with a sample in every family (an empty labelled
/// family, such as the drift before any reconciliation, is not in the exposition at all).
#[test]
fn every_series_the_rules_name_is_one_the_service_exposes() {
    let rules = std::fs::read_to_string(docs().join("prometheus-alerts.yml")).unwrap();
    let mut metrics = Metrics::new(&StorageMetrics::default());
    metrics.watch_disk();
    metrics.delivery("stored", "");
    metrics.read("/api/campaigns", std::time::Duration::from_millis(1));
    let user = smartlead_hub::domain::UserId::new();
    metrics.drift(user, "3701245", "replies", 3);
    metrics.reconcile_failed(user);
    metrics.set_usage(smartlead_hub::storage::records::StorageUsage {
        newest_events: vec![(user, smartlead_hub::domain::UtcTimestamp::now())],
        ..Default::default()
    });
    let exposition = metrics.exposition().unwrap();
    // Families as the exposition declares them: `# TYPE name type`.
    let families: BTreeSet<(String, String)> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect();

    // A series in an expression (a counter's `_total`, a histogram's `_bucket`, a gauge), or a
    // family the descriptions point to by name.
    let named = names(&rules, "smartlead_hub_");
    assert!(named.len() >= 9, "{named:?}");
    for series in &named {
        let exposed = match series.rsplit_once('_') {
            Some((family, "total")) => families.contains(&(family.into(), "counter".into())),
            Some((family, "bucket")) => families.contains(&(family.into(), "histogram".into())),
            _ => families.iter().any(|(family, _)| family == series),
        };
        assert!(exposed, "{series} is not exposed:\n{exposition}");
    }

    let codes: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|code| code.name().to_owned())
        .chain(
            smartlead_hub::smartlead::MappingError::CODES
                .iter()
                .map(|c| c.to_string()),
        )
        .collect();
    let matched = label_values(&rules, "code");
    assert!(matched.len() >= 5, "{matched:?}");
    assert!(matched.is_subset(&codes), "{:?}", &matched - &codes);
    let outcomes: BTreeSet<String> = ["stored", "duplicate", "kept", "held", "rejected"]
        .map(String::from)
        .into();
    let matched = label_values(&rules, "outcome");
    assert!(matched.is_subset(&outcomes), "{matched:?}");
}
