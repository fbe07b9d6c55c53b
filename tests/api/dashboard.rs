//! The dashboard in a real browser: Debian's Chromium driven over WebDriver (chromedriver) by
//! fantoccini, against the real server on a file seeded by `demo` through the webhook's path.
//! Every number checked on a page is compared with the read API's answer for it. Screenshots of
//! every page at desktop and phone width go to `target/screenshots/`.

use std::process::Command;

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{browser, click, eval, ready, screenshots, shows, start_driver, text_of};
use crate::dashboard_checks::{
    api, campaign_leads, event_ids, held_deliveries_notice, keep_more_events_than_a_page,
    overview_activity,
};
use crate::helpers::{admin, serve_file};

#[actix_web::test]
async fn the_dashboard_shows_what_the_api_answers() {
    let driver = start_driver();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dashboard.db");
    let demo = Command::new(env!("CARGO_BIN_EXE_smartlead-hub"))
        .args(["demo", "--events", "3000", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&demo.stdout).into_owned();
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("API token (shown once): "))
        .unwrap_or_else(|| panic!("demo printed no token: {out}"))
        .to_owned();
    let served = serve_file(&db, |_| {});
    let base = served.base.clone();
    let client = browser(&driver).await;

    // Sign-in: paste the token.
    client.goto(&format!("{base}/")).await.unwrap();
    ready(&client, "Sign in").await;
    screenshots(&client, "sign-in").await;
    client
        .find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(&token)
        .await
        .unwrap();
    click(&client, "form.signin button").await;
    ready(&client, "Overview").await;
    let who = text_of(&client, "#who").await;
    assert!(
        who.as_str().unwrap().contains("demo@smartlead-hub.example"),
        "{who}"
    );
    // Signing out forgets the token; the demo's `#token=` link signs in again in one step.
    click(&client, "#sign-out").await;
    ready(&client, "Sign in").await;
    let dashboard_link = out
        .lines()
        .find_map(|l| l.strip_prefix("Dashboard: "))
        .expect("demo prints the dashboard link")
        .replace("127.0.0.1:8080", base.trim_start_matches("http://"));
    client.goto(&dashboard_link).await.unwrap();
    ready(&client, "Overview").await;
    let url = client.current_url().await.unwrap();
    assert!(
        !url.as_str().contains("token"),
        "the token stays in the address bar: {url}"
    );

    // Overview: the tiles are /api/stats's numbers.
    let stats = api(&base, &token, "/api/stats").await;
    let tiles = eval(&client, "return [...document.querySelectorAll('.tile')].map(t => [t.dataset.kind, Number(t.querySelector('.tile-value').dataset.value), t.querySelector('.rate') ? t.querySelector('.rate').dataset.rate : null])").await;
    for tile in tiles.as_array().unwrap() {
        let kind = tile[0].as_str().unwrap();
        assert_eq!(
            tile[1], stats["stats"]["headline"][kind]["events"],
            "{kind} tile"
        );
        if let Some(rate) = tile[2].as_str() {
            let expected = stats["stats"]["rates"][format!("{kind}_rate")
                .replace("opened_rate", "open_rate")
                .replace("clicked_rate", "click_rate")
                .replace("replied_rate", "reply_rate")
                .replace("bounced_rate", "bounce_rate")
                .replace("unsubscribed_rate", "unsubscribe_rate")]
            .as_f64()
            .unwrap();
            assert!(
                (rate.parse::<f64>().unwrap() - expected).abs() < 1e-9,
                "{kind} rate"
            );
        }
    }
    assert_eq!(tiles.as_array().unwrap().len(), 6);
    // The demo org has its own secret: no warning about refused deliveries.
    assert_eq!(
        text_of(&client, "#secret-notice").await,
        serde_json::Value::Null
    );
    let rows = eval(
        &client,
        "return document.querySelectorAll('table.campaigns tbody tr').length",
    )
    .await;
    assert_eq!(rows, 8, "one row per demo campaign");
    // Each campaign's status as the API gives it, as a badge: the demo paused one of them.
    let badges = eval(&client, "return [...document.querySelectorAll('table.campaigns tbody tr')].map(tr => [tr.querySelector('a').getAttribute('href').replace('#/campaign/', ''), tr.querySelector('.badge') ? tr.querySelector('.badge').textContent : null])").await;
    let list = api(&base, &token, "/api/campaigns?limit=500").await;
    let mut paused = 0;
    for badge in badges.as_array().unwrap() {
        let listed = list["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["campaign_id"] == badge[0])
            .unwrap();
        let status = listed["status"]
            .as_str()
            .expect("the demo gives every campaign a status");
        assert_eq!(badge[1], status.to_lowercase(), "{}", badge[0]);
        paused += usize::from(status == "PAUSED");
    }
    assert_eq!(paused, 1, "{badges}");
    click(&client, "#refresh").await;
    let refresh = eval(
        &client,
        "return sessionStorage.getItem('smartlead-hub-refresh')",
    )
    .await;
    assert_eq!(refresh, "1", "the auto-refresh choice is kept for the tab");
    // The chart: all time per day, as the tiles count it; the last 7 days per hour.
    overview_activity(&client, &base, &token, "day").await;
    screenshots(&client, "overview").await;

    // Sorting by a column reorders the rows (keyboard-reachable buttons in the headers).
    click(&client, "button[data-col='replied']").await;
    let sorted = eval(
        &client,
        "return document.querySelector('th[aria-sort=descending] button').dataset.col",
    )
    .await;
    assert_eq!(sorted, "replied");
    eval(&client, "location.hash = '#/?range=7'").await;
    overview_activity(&client, &base, &token, "hour").await;
    screenshots(&client, "overview-7-days").await;
    held_deliveries_notice(&client, &base, &token, &db).await;

    // A campaign is shown by the name Smartlead gave it, its id beside; its page is titled so.
    // The one checked is the first listed with leads whose latest event is a reply (its lead
    // filter is checked with them): which campaigns have such leads depends on the hour the
    // demo's history ends.
    let links = eval(
        &client,
        "return [...document.querySelectorAll('table.campaigns tbody a')].map(a => [a.getAttribute('href'), a.textContent, a.parentElement.querySelector('.campaign-id').textContent])",
    )
    .await;
    let mut chosen = None;
    for link in links.as_array().unwrap() {
        let id = link[0].as_str().unwrap().trim_start_matches("#/campaign/");
        let path = format!("/api/leads?campaign_id={id}&last_kind=replied&limit=1");
        if !api(&base, &token, &path).await["leads"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            chosen = Some(link.clone());
            break;
        }
    }
    let link = chosen.expect("a demo campaign has leads whose latest event is a reply");
    let href = link[0].as_str().unwrap();
    let campaign = href.trim_start_matches("#/campaign/").to_owned();
    keep_more_events_than_a_page(&db, &out, &campaign);
    let expected = api(&base, &token, &format!("/api/campaigns/{campaign}/stats")).await;
    let name = expected["name"]
        .as_str()
        .expect("the demo names its campaigns");
    assert_eq!(link[1], name);
    assert_eq!(link[2], campaign.as_str());
    click(&client, &format!("table.campaigns tbody a[href='{href}']")).await;
    ready(&client, name).await;
    let heading = text_of(&client, "main h1").await;
    assert_eq!(heading, name);
    // Tiles and funnel equal its stats.
    let funnel = eval(&client, "return [...document.querySelectorAll('.funnel li')].map(li => [li.dataset.kind, Number(li.querySelector('[data-leads]').dataset.leads)])").await;
    for step in funnel.as_array().unwrap() {
        let kind = step[0].as_str().unwrap();
        assert_eq!(
            step[1], expected["stats"]["headline"][kind]["unique_leads"],
            "funnel {kind}"
        );
    }
    // The step table is /api/campaigns/{id}/steps: each kind's events, the leads underneath.
    let steps = api(&base, &token, &format!("/api/campaigns/{campaign}/steps")).await;
    let shown = eval(&client, "return [...document.querySelectorAll('table.steps tbody tr')].map(tr => [Number(tr.dataset.step), ...[...tr.querySelectorAll('[data-kind]')].map(td => [td.dataset.kind, Number(td.querySelector('.events').textContent.replaceAll(',', '')), td.querySelector('.cell-note')?.textContent ?? null])])").await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), steps["steps"].as_array().unwrap().len());
    let mut more_events_than_leads = false;
    for (row, step) in shown.iter().zip(steps["steps"].as_array().unwrap()) {
        assert_eq!(row[0], step["step"]);
        for cell in row.as_array().unwrap().iter().skip(1) {
            let kind = cell[0].as_str().unwrap();
            assert_eq!(cell[1], step[kind], "step {} {kind}", step["step"]);
            let (events, leads) = (step[kind].as_i64().unwrap(), &step["unique_leads"][kind]);
            let note =
                (events > 0).then(|| format!("{leads} lead{}", if leads == 1 { "" } else { "s" }));
            assert_eq!(
                cell[2].as_str().map(str::to_owned),
                note,
                "step {} {kind}",
                step["step"]
            );
            more_events_than_leads |= events > leads.as_i64().unwrap();
        }
    }
    assert!(
        more_events_than_leads,
        "the demo has a lead with two events of a kind at a step: {steps}"
    );
    let chart = eval(&client, "return !!document.querySelector('.chart canvas')").await;
    assert_eq!(chart, true, "the activity chart drew");
    campaign_leads(&client, &base, &token, &campaign).await;
    // Its other Smartlead events: the API's first 20, the next 20 on "More events".
    let kept_rows = "return [...document.querySelectorAll('section[aria-labelledby=kept] tbody tr')].map(tr => tr.dataset.event)";
    let kept = api(
        &base,
        &token,
        &format!("/api/kept-events?campaign_id={campaign}&limit=20"),
    )
    .await;
    assert_eq!(eval(&client, kept_rows).await, event_ids(&kept));
    assert!(!kept["next_cursor"].is_null(), "{kept}");
    // Listed by receipt, not by their own times (a backfill's come in late): the heading says so.
    let heading = eval(
        &client,
        "return document.getElementById('kept').textContent",
    )
    .await;
    assert_eq!(heading, "Other Smartlead events (newest received first)");
    click(&client, "section[aria-labelledby=kept] button.more").await;
    let forty = api(
        &base,
        &token,
        &format!("/api/kept-events?campaign_id={campaign}&limit=40"),
    )
    .await;
    shows(&client, kept_rows, &event_ids(&forty)).await;
    screenshots(&client, "campaign").await;

    // A lead's timeline, from the campaign's lead list.
    let lead_href = eval(
        &client,
        "return document.querySelector('a[href^=\"#/lead/\"]').getAttribute('href')",
    )
    .await;
    let lead_id = lead_href
        .as_str()
        .unwrap()
        .trim_start_matches("#/lead/")
        .to_owned();
    click(&client, "a[href^='#/lead/']").await;
    ready(&client, "Lead").await;
    let timeline = api(
        &base,
        &token,
        &format!("/api/leads/{lead_id}/events?limit=20"),
    )
    .await;
    let shown = eval(
        &client,
        "return document.querySelectorAll('.timeline li').length",
    )
    .await;
    assert_eq!(
        shown.as_u64().unwrap() as usize,
        timeline["events"].as_array().unwrap().len()
    );
    let email = timeline["events"][0]["email"].as_str().unwrap().to_owned();
    // The header says who the lead is and where they stand.
    let lead = api(&base, &token, &format!("/api/leads/{lead_id}")).await["lead"].clone();
    let header = text_of(&client, ".lead-email").await;
    let status = lead["last_email_event"]
        .as_str()
        .unwrap()
        .trim_start_matches("email_")
        .replace('_', " ");
    let category = lead["smartlead_category"].as_str().unwrap_or_default();
    assert_eq!(
        header.as_str().unwrap(),
        format!("{email} {status}{category}")
    );
    // The demo names every lead and, with its category updates, their company.
    let part = |field: &str| lead[field].as_str().unwrap_or_default().to_owned();
    assert!(!part("last_name").is_empty(), "{lead}");
    let name = format!("{} {}", part("first_name"), part("last_name"));
    let who = text_of(&client, ".lead-who").await;
    let expected = match part("company").as_str() {
        "" => name,
        company => format!("{name} · {company}"),
    };
    assert_eq!(who.as_str().unwrap(), expected);
    // Its events name their campaign as the list does.
    let named = eval(
        &client,
        "return [...document.querySelectorAll('.timeline a[href^=\"#/campaign/\"]')].map(a => a.textContent)",
    )
    .await;
    let list = api(&base, &token, "/api/campaigns?limit=500").await;
    assert_eq!(
        named.as_array().unwrap().len(),
        timeline["events"].as_array().unwrap().len()
    );
    for (shown, event) in named
        .as_array()
        .unwrap()
        .iter()
        .zip(timeline["events"].as_array().unwrap())
    {
        let listed = list["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["campaign_id"] == event["campaign_id"])
            .unwrap();
        assert_eq!(shown, &listed["name"], "the timeline names the campaign");
    }
    screenshots(&client, "lead").await;

    // The search finds that lead alone by its address, with its latest events; by its last
    // name, the leads the API finds, in its order, each linking to its page.
    let search = |q: String| {
        let client = client.clone();
        async move {
            let input = client.find(Locator::Css("#search-q")).await.unwrap();
            input.clear().await.unwrap();
            input.send_keys(&q).await.unwrap();
            // Not ready until this search's page has rendered (the last one's was, too).
            eval(
                &client,
                "document.querySelector('main').dataset.ready = '0'",
            )
            .await;
            click(&client, "#search button").await;
            ready(&client, "Search").await;
            eval(
                &client,
                "return [...document.querySelectorAll('.result h2 a, tbody th a')].map(a => a.getAttribute('href'))",
            )
            .await
        }
    };
    assert_eq!(
        search(email.clone()).await,
        json!([format!("#/lead/{lead_id}")])
    );
    let events = eval(
        &client,
        "return document.querySelectorAll('.result .timeline li').length",
    )
    .await;
    assert_eq!(
        events,
        json!(timeline["events"].as_array().unwrap().len().min(5))
    );
    screenshots(&client, "search-one").await;
    let last_name = part("last_name");
    let answer = api(
        &base,
        &token,
        &format!(
            "/api/leads?q={}&limit=25",
            crate::lead_search::encoded(&last_name)
        ),
    )
    .await;
    let expected: Vec<String> = answer["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("#/lead/{}", l["id"].as_str().unwrap()))
        .collect();
    assert!(
        expected.len() > 1,
        "the demo has leads of one last name: {answer}"
    );
    assert!(expected.contains(&format!("#/lead/{lead_id}")), "{answer}");
    assert_eq!(search(last_name).await, json!(expected));
    screenshots(&client, "search").await;

    // The replies feed.
    click(&client, "nav a[href='#/replies']").await;
    ready(&client, "Replies").await;
    // The replies feed is /api/events?kind=replied (first replies and follow-ups'), 20 at a
    // time, in order, each saying who wrote it as the events' answer names its lead.
    let rows = "return [...document.querySelectorAll('.replies li')].map(li => li.dataset.event)";
    let answer = api(&base, &token, "/api/events?kind=replied&limit=20").await;
    assert_eq!(eval(&client, rows).await, event_ids(&answer));
    assert!(
        !answer["next_cursor"].is_null(),
        "the demo has more than 20 replies: {answer}"
    );
    click(&client, "button.more").await;
    let forty = api(&base, &token, "/api/events?kind=replied&limit=40").await;
    shows(&client, rows, &event_ids(&forty)).await;
    let shown = eval(
        &client,
        "return [...document.querySelectorAll('.replies li')].map(li => li.querySelector('a').textContent + li.querySelector('.reply-who').textContent)",
    )
    .await;
    for (event, shown) in forty["events"]
        .as_array()
        .unwrap()
        .iter()
        .zip(shown.as_array().unwrap())
    {
        let name = event["lead_name"]
            .as_str()
            .expect("the demo names its leads");
        let company = event["lead_company"]
            .as_str()
            .map(|c| format!(" · {c}"))
            .unwrap_or_default();
        assert_eq!(
            shown,
            &format!("{name} · {}{company}", event["email"].as_str().unwrap())
        );
    }
    // One campaign's replies: the campaign with the most, chosen in the feed's picker.
    let campaigns = api(&base, &token, "/api/campaigns?limit=500").await;
    let busiest = campaigns["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|c| {
            c["stats"]["headline"]["replied"]["events"]
                .as_i64()
                .unwrap()
        })
        .unwrap()["campaign_id"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .find(Locator::Css("#replies-campaign"))
        .await
        .unwrap()
        .select_by_value(&busiest)
        .await
        .unwrap();
    let theirs = api(
        &base,
        &token,
        &format!("/api/events?kind=replied&campaign_id={busiest}&limit=20"),
    )
    .await;
    assert!(!event_ids(&theirs).as_array().unwrap().is_empty());
    shows(&client, rows, &event_ids(&theirs)).await;
    ready(&client, "Replies").await;
    screenshots(&client, "replies").await;

    // An error shows the API's code (the error boundary), with a retry.
    client
        .goto(&format!("{base}/#/campaign/999"))
        .await
        .unwrap();
    ready(&client, "Campaign 999").await;
    let code = text_of(&client, ".state.error code").await;
    assert_eq!(code, "not_found");
    screenshots(&client, "error").await;

    // Timing is for benchmarks, not assertions: printed for BENCHMARKS.md.
    client.goto(&format!("{base}/")).await.unwrap();
    ready(&client, "Overview").await;
    let paint = eval(&client, "const p = performance.getEntriesByName('first-contentful-paint')[0]; const n = performance.getEntriesByType('navigation')[0]; return [p ? p.startTime : null, n ? n.domContentLoadedEventEnd : null]").await;
    println!("dashboard first contentful paint ms, DOMContentLoaded ms: {paint}");

    // A revoked token sends the reader back to sign-in, with a message.
    let admin = admin(&db);
    let user: smartlead_hub::domain::UserId = admin.users().unwrap()[0].id.parse().unwrap();
    for t in admin.tokens(user).unwrap() {
        admin.revoke_token(t.id.parse().unwrap()).unwrap();
    }
    click(&client, "nav a[href='#/']").await;
    ready(&client, "Sign in").await;
    let notice = text_of(&client, ".notice").await;
    assert!(
        notice.as_str().unwrap().contains("not accepted"),
        "{notice}"
    );

    // A new user's first visit: the webhook URL to paste into Smartlead, this address's own.
    let newcomer = crate::helpers::add_user(&db, "new@example.com", "newcomer-org", None);
    // Its token expires in a day and a half: the header says so, as a warning.
    let soon = smartlead_hub::domain::UtcTimestamp::now().plus_millis(36 * 3_600_000);
    let (_, fresh) = admin
        .issue_token(newcomer, Some("first visit"), Some(soon))
        .unwrap();
    follow_sign_in_link(&client, &base, fresh.expose(), "Overview").await;
    let url = text_of(&client, "#webhook-url").await;
    assert_eq!(
        url,
        format!("{base}/api/webhooks/smartlead?org_id=newcomer-org")
    );
    // Added without a webhook secret: the page says its deliveries are refused, and how to fix it.
    let refused = text_of(&client, "#secret-notice").await;
    let refused = refused.as_str().unwrap();
    assert!(
        refused.starts_with("Deliveries for this org are refused")
            && refused.contains(&format!("credentials set-smartlead --user {newcomer}")),
        "{refused}"
    );
    let expiry = text_of(&client, "#token-expiry").await;
    assert_eq!(expiry, " · token expires in 36 hours");
    let warned = eval(
        &client,
        "return document.querySelector('#token-expiry').classList.contains('soon')",
    )
    .await;
    assert_eq!(warned, true);
    screenshots(&client, "first-visit").await;

    // A sign-in link for another user while signed in: the header names the link's user, whose
    // token does not expire.
    let (_, owners) = admin.issue_token(user, Some("again"), None).unwrap();
    follow_sign_in_link(&client, &base, owners.expose(), "Overview").await;
    let who = text_of(&client, "#who").await;
    let owner_email = admin.users().unwrap()[0].email.clone();
    assert!(
        who.as_str().unwrap().ends_with(owner_email.as_str()),
        "{who}"
    );
    let no_expiry = eval(
        &client,
        "return document.querySelector('#token-expiry') === null",
    )
    .await;
    assert_eq!(no_expiry, true);

    // Signed in, a sign-in link with a token past its expiry leads back to sign-in, saying why.
    let past = smartlead_hub::domain::UtcTimestamp::now().plus_millis(-60_000);
    let (_, expired) = admin
        .issue_token(newcomer, Some("expired"), Some(past))
        .unwrap();
    follow_sign_in_link(&client, &base, expired.expose(), "Sign in").await;
    let notice = text_of(&client, ".notice").await;
    assert!(notice.as_str().unwrap().contains("expired"), "{notice}");

    client.close().await.unwrap();
    served.stop().await;
}

/// Opens a sign-in link (`/#token=…`, as `demo` prints them) and waits for `page`.
async fn follow_sign_in_link(client: &fantoccini::Client, base: &str, token: &str, page: &str) {
    client
        .goto(&format!("{base}/#token={token}"))
        .await
        .unwrap();
    ready(client, page).await;
}
