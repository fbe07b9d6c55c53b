//! What the dashboard test checks page by page, each against the read API's answer: a
//! campaign's lead table (paging, search, CSV download), the overview's chart, and the API
//! reads it compares with.

use std::path::Path;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::browser::{click, eval, ready, shows, text_of};

/// The ids of the leads `/api/leads?{query}` answers, as the dashboard links them.
pub(crate) async fn lead_links(base: &str, token: &str, query: &str) -> (Value, bool) {
    let answer = api(base, token, &format!("/api/leads?{query}")).await;
    let links = answer["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!(format!("#/lead/{}", l["id"].as_str().unwrap())))
        .collect();
    (Value::Array(links), !answer["next_cursor"].is_null())
}

/// A campaign's lead table: the API's first 25, the next on "More leads", and a search among
/// them (`q` with the campaign).
pub(crate) async fn campaign_leads(client: &Client, base: &str, token: &str, campaign: &str) {
    let rows = "return [...document.querySelectorAll('section[aria-labelledby=leads] tbody th a')].map(a => a.getAttribute('href'))";
    let (first, more) = lead_links(base, token, &format!("campaign_id={campaign}&limit=25")).await;
    assert_eq!(eval(client, rows).await, first);
    assert!(more, "the demo's campaign has more than 25 leads");
    click(client, "section[aria-labelledby=leads] button.more").await;
    let (fifty, _) = lead_links(base, token, &format!("campaign_id={campaign}&limit=50")).await;
    shows(client, rows, &fifty).await;

    let lead = &api(
        base,
        token,
        &format!("/api/leads?campaign_id={campaign}&limit=1"),
    )
    .await["leads"][0];
    let last_name = lead["last_name"]
        .as_str()
        .expect("the demo names its leads");
    let input = client
        .find(Locator::Css(".lead-filter input"))
        .await
        .unwrap();
    input.send_keys(last_name).await.unwrap();
    click(client, ".lead-filter button").await;
    let (found, _) = lead_links(
        base,
        token,
        &format!(
            "campaign_id={campaign}&q={}&limit=25",
            crate::lead_search::encoded(last_name)
        ),
    )
    .await;
    assert!(found
        .as_array()
        .unwrap()
        .contains(&json!(format!("#/lead/{}", lead["id"].as_str().unwrap()))));
    shows(client, rows, &found).await;

    // "Download CSV" saves the export of what the table lists: the campaign, the search.
    let (name, csv) = downloaded(client, "section[aria-labelledby=leads] button.download").await;
    assert_eq!(name, format!("leads-{campaign}-search.csv"));
    let query = format!(
        "campaign_id={campaign}&q={}",
        crate::lead_search::encoded(last_name)
    );
    let expected = text(base, token, &format!("/api/leads/export?{query}")).await;
    assert_eq!(csv, expected);
    assert!(csv.lines().count() > 1, "{csv}");

    // The latest-activity filter: the leads whose last event is a reply (first or follow-up's),
    // and their export.
    input.clear().await.unwrap();
    let (replied, _) = lead_links(
        base,
        token,
        &format!("campaign_id={campaign}&last_kind=replied&limit=25"),
    )
    .await;
    assert!(
        !replied.as_array().unwrap().is_empty(),
        "the demo's campaign has leads who replied"
    );
    pick_activity(client, "replied").await;
    shows(client, rows, &replied).await;
    let (name, csv) = downloaded(client, "section[aria-labelledby=leads] button.download").await;
    assert_eq!(name, format!("leads-{campaign}-replied.csv"));
    let expected = text(
        base,
        token,
        &format!("/api/leads/export?campaign_id={campaign}&last_kind=replied"),
    )
    .await;
    assert_eq!(csv, expected);
    // Any activity again: the table is the campaign's first page, as at first.
    pick_activity(client, "").await;
    shows(client, rows, &first).await;
}

/// Picks a latest activity (`last_kind`; "" for any) in the campaign's lead filter.
async fn pick_activity(client: &Client, kind: &str) {
    client
        .find(Locator::Css(".lead-filter select"))
        .await
        .unwrap()
        .select_by_value(kind)
        .await
        .unwrap();
}

/// Clicks the download button `css` and returns the file's name and text, as the page handed
/// them to the browser (the object URL's blob and the link's `download`).
pub(crate) async fn downloaded(client: &Client, css: &str) -> (String, String) {
    eval(client, "if (!window.savedHooked) { const blobUrl = URL.createObjectURL; URL.createObjectURL = (blob) => { window.saved.push(blob); return blobUrl(blob); }; HTMLAnchorElement.prototype.click = function () { window.savedAs = this.download; }; window.savedHooked = true; } window.saved = [];").await;
    click(client, css).await;
    shows(client, "return window.saved.length", &json!(1)).await;
    // A byte-order mark first, for Excel (`text()` decodes it away).
    let bom = eval(
        client,
        "return window.saved[0].slice(0, 3).arrayBuffer().then(b => [...new Uint8Array(b)])",
    )
    .await;
    assert_eq!(bom, json!([0xEF, 0xBB, 0xBF]));
    let csv = eval(client, "return window.saved[0].text()").await;
    let name = eval(client, "return window.savedAs").await;
    (
        name.as_str().unwrap().to_owned(),
        csv.as_str().unwrap().to_owned(),
    )
}

/// What the API answers at `path` for `token`, as text.
pub(crate) async fn text(base: &str, token: &str, path: &str) -> String {
    crate::helpers::read(base, token, path).await.1
}

/// The overview's activity chart: each line's total is the API's series over the chart's own
/// range, and the tiles' number for the same period.
pub(crate) async fn overview_activity(client: &Client, base: &str, token: &str, bucket: &str) {
    let script =
        "const c = document.querySelector('#main .chart'); return c ? c.dataset.bucket : null";
    shows(client, script, &json!(bucket)).await;
    ready(client, "Overview").await;
    let chart = eval(client, "const c = document.querySelector('#main .chart'); return [c.dataset.from, c.dataset.to, JSON.parse(c.dataset.totals)]").await;
    let (from, to) = (chart[0].as_str().unwrap(), chart[1].as_str().unwrap());
    let series = api(
        base,
        token,
        &format!("/api/timeseries?bucket={bucket}&from={from}&to={to}"),
    )
    .await;
    let tiles = if eval(client, "return location.hash").await == "#/" {
        api(base, token, "/api/stats").await
    } else {
        api(base, token, &format!("/api/stats?from={from}&to={to}")).await
    };
    for kind in ["sent", "opened", "clicked", "replied", "bounced"] {
        let total: i64 = series["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["counts"][kind].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(chart[2][kind], total, "{bucket} chart: {kind}");
        assert_eq!(
            chart[2][kind], tiles["stats"]["headline"][kind]["events"],
            "{bucket} chart: {kind} against the tiles"
        );
    }
    assert!(chart[2]["sent"].as_i64().unwrap() > 0, "{chart}");
    if eval(client, "return location.hash").await != "#/" {
        // In a period a rate would divide two different sets of leads (and can pass 100%):
        // each tile gives its kind's leads instead, and a note says so.
        let shown = eval(client, "return [...document.querySelectorAll('.tile')].map(t => [t.dataset.kind, t.querySelector('.rate') !== null, Number(t.querySelector('.leads').dataset.leads)])").await;
        for tile in shown.as_array().unwrap() {
            let kind = tile[0].as_str().unwrap();
            assert_eq!(tile[1], false, "{kind}: no rate in a period");
            assert_eq!(
                tile[2], tiles["stats"]["headline"][kind]["unique_leads"],
                "{kind}: the period's leads"
            );
        }
        assert_eq!(shown.as_array().unwrap().len(), 6);
        assert!(text_of(client, "#period-note").await.is_string());
    } else {
        assert_eq!(text_of(client, "#period-note").await, Value::Null);
    }
    shows(
        client,
        "return !!document.querySelector('#main .chart canvas')",
        &json!(true),
    )
    .await;
}

/// The ids of a page of events, in order.
pub(crate) fn event_ids(answer: &Value) -> Value {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect()
}

/// 25 category updates of `campaign` for the demo's user, stored beside the running service as
/// the webhook would store them: more than the campaign page shows at once.
pub(crate) fn keep_more_events_than_a_page(db: &Path, demo_out: &str, campaign: &str) {
    let user: smartlead_hub::domain::UserId = demo_out
        .lines()
        .find_map(|l| l.strip_prefix("demo user "))
        .and_then(|l| l.split(' ').next())
        .expect("the demo names its user")
        .parse()
        .unwrap();
    let deliveries: Vec<_> = (0..25)
        .map(|i| {
            let mut body: Value = serde_json::from_slice(&crate::helpers::fixture(
                "23_lead_category_updated_full_history.json",
            ))
            .unwrap();
            let at = format!("2026-01-01T10:{i:02}:00.000Z");
            let email = format!("kept{i}@dashboard.example");
            body["campaign_id"] = campaign.parse::<u64>().unwrap().into();
            for field in ["created_at", "event_timestamp"] {
                body[field] = at.clone().into();
            }
            for field in ["to", "lead_email", "to_email"] {
                body[field] = email.clone().into();
            }
            (
                user,
                "demo-org".to_owned(),
                serde_json::to_vec(&body).unwrap(),
            )
        })
        .collect();
    crate::helpers::ingest_in_batches(db, &deliveries, 25);
}

/// What the API answers at `path` for `token`, as JSON.
pub(crate) async fn api(base: &str, token: &str, path: &str) -> Value {
    serde_json::from_str(&text(base, token, path).await).unwrap()
}

/// The overview says when deliveries are held, not counted: no notice at first; two posted
/// through the webhook with the demo org's secret (authentic, but without a lead address) show
/// as one notice naming them, as `/api/held-deliveries` counts them.
pub(crate) async fn held_deliveries_notice(client: &Client, base: &str, token: &str, db: &Path) {
    assert_eq!(text_of(client, "#held-notice").await, Value::Null);
    let secret: String = rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT json_extract(credentials, '$.webhook_secret') FROM integration_credentials
             WHERE provider = 'smartlead'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let sender = crate::helpers::client();
    for n in 0..2 {
        let body = format!(
            r#"{{"secret_key":"{secret}","event_type":"EMAIL_OPEN","campaign_id":7,"event_timestamp":"2025-10-14T11:47:09Z","note":{n}}}"#
        );
        let mut response = sender
            .post(format!("{base}/api/webhooks/smartlead?org_id=demo-org"))
            .send_body(body)
            .await
            .unwrap();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["status"], "held", "{answer}");
    }
    assert_eq!(api(base, token, "/api/held-deliveries").await["total"], 2);
    eval(client, "location.hash = '#/'").await;
    let says = "const n = document.getElementById('held-notice'); return !!n && n.textContent.startsWith('2 deliveries from Smartlead held, not counted') && n.textContent.includes('no lead address (2)') && n.textContent.includes('deliveries replay --all')";
    shows(client, says, &json!(true)).await;
    ready(client, "Overview").await;
    crate::browser::screenshots(client, "overview-held").await;
}
