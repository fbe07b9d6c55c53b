//! A synthetic but realistic Smartlead history: campaigns of 3–4-step sequences sent on weekday
//! working hours, with the funnels cold email has (opens on 30–60 % of sends, a fifth of them
//! opened again, clicks on a fraction of opens, replies from 1–8 % of leads, 1–4 % bounces, a
//! few unsubscribes, category updates after replies), as the webhook bodies Smartlead would
//! have sent, in both the flat help-centre shape and the nested API-docs shape. The same seed
//! and end give the same bodies, byte for byte, so a second run is all duplicates.

use serde_json::json;

use crate::domain::{UtcTimestamp, DAY_MILLIS, HOUR_MILLIS};

mod bodies;
use bodies::{status_change, Body};

/// xorshift64*: a few lines, and its sequence for a seed never changes with a crate upgrade
/// (a demo re-run must regenerate the very same bodies).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const CAMPAIGNS: [&str; 8] = [
    "Q4 Ops leaders — EU",
    "Warehouse automation — DACH",
    "SaaS founders — US East",
    "Logistics heads — Nordics",
    "Retail COOs — UK",
    "Manufacturing VPs — Benelux",
    "E-commerce ops — France",
    "Supply chain directors — Iberia",
];
const FIRST_NAMES: [&str; 12] = [
    "Anna", "Zoë", "Lukas", "Maja", "Omar", "Chloé", "Jonas", "Sofia", "Pieter", "Inès", "Mateo",
    "Freya",
];
/// Each company's address domain and the name it goes by.
const COMPANIES: [(&str, &str); 12] = [
    ("wisla-logistyka", "Wisła Logistyka"),
    ("mueller-soehne", "Müller & Söhne"),
    ("nordfrakt", "Nordfrakt"),
    ("lyon-entrepots", "Lyon Entrepôts"),
    ("brightcart", "BrightCart"),
    ("stahlwerk-ost", "Stahlwerk Ost"),
    ("iberiacargo", "IberiaCargo"),
    ("havenhub", "HavenHub"),
    ("tradewind", "Tradewind"),
    ("kestrel-retail", "Kestrel Retail"),
    ("alpaca-supply", "Alpaca Supply"),
    ("delta-fulfil", "Delta Fulfil"),
];
/// Taken by the lead's number, not drawn: the draws (and so the demo's history) stay as they were.
const LAST_NAMES: [&str; 12] = [
    "Kowalska",
    "Lefèvre",
    "Becker",
    "Nowak",
    "Haddad",
    "Martin",
    "Berg",
    "Rossi",
    "de Vries",
    "García",
    "Fernández",
    "Andersen",
];
const CATEGORIES: [(&str, f64); 3] = [
    ("Interested", 0.40),
    ("Not Interested", 0.35),
    ("Out Of Office", 0.25),
];

/// The shape of one campaign's funnel.
struct Campaign {
    id: u64,
    name: &'static str,
    steps: u32,
    /// Days between steps.
    gap_days: i64,
    starts: UtcTimestamp,
    open_rate: f64,
    click_rate: f64,
    reply_rate: f64,
    bounce_rate: f64,
    /// When it was paused (no sends after; its status says so), if it was.
    paused_at: Option<UtcTimestamp>,
}

/// The campaign the demo pauses, and how long before the end: a dashboard shows one campaign
/// not running, as real accounts have.
const PAUSED_CAMPAIGN: usize = 7;
const PAUSED_DAYS_BEFORE_END: i64 = 3;

/// How much history, and where it ends.
pub struct Plan {
    pub events: usize,
    pub seed: u64,
    pub end: UtcTimestamp,
    pub secret: String,
}

/// What was generated: the bodies in send order, and how many leads and campaigns.
pub struct History {
    pub bodies: Vec<String>,
    pub leads: usize,
    pub campaigns: usize,
}

/// About `plan.events` webhook bodies over the six weeks before `plan.end`.
pub fn generate(plan: &Plan) -> History {
    let mut rng = Rng::new(plan.seed);
    let window = 42 * DAY_MILLIS;
    let campaigns: Vec<Campaign> = CAMPAIGNS
        .iter()
        .enumerate()
        .map(|(i, name)| Campaign {
            id: 3_700_000 + i as u64 * 1_117,
            name,
            steps: 3 + rng.below(2) as u32,
            gap_days: 2 + rng.below(3) as i64,
            starts: plan
                .end
                .plus_millis(-window + rng.below(18) as i64 * DAY_MILLIS),
            open_rate: rng.between(0.30, 0.60),
            click_rate: rng.between(0.08, 0.25),
            reply_rate: rng.between(0.01, 0.08),
            bounce_rate: rng.between(0.01, 0.04),
            paused_at: (i == PAUSED_CAMPAIGN).then(|| {
                plan.end
                    .plus_millis(-PAUSED_DAYS_BEFORE_END * DAY_MILLIS)
                    .hour_start()
            }),
        })
        .collect();
    let mut events: Vec<(UtcTimestamp, String)> = Vec::new();
    let mut leads = 0;
    while events.len() < plan.events {
        let campaign = &campaigns[leads % campaigns.len()];
        let lead = Lead::new(leads, &mut rng);
        leads += 1;
        lead_history(campaign, &lead, plan, &mut rng, &mut events);
    }
    for campaign in &campaigns {
        if let Some(at) = campaign.paused_at {
            events.push((at, status_change(campaign, at, plan)));
        }
    }
    events.sort_by_key(|(at, _)| *at);
    events.truncate(plan.events);
    History {
        bodies: events.into_iter().map(|(_, body)| body).collect(),
        leads,
        campaigns: campaigns.len(),
    }
}

struct Lead {
    number: usize,
    first_name: &'static str,
    last_name: &'static str,
    company: &'static str,
    email: String,
}

impl Lead {
    fn new(number: usize, rng: &mut Rng) -> Self {
        let first_name = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
        let (domain, company) = COMPANIES[rng.below(COMPANIES.len() as u64) as usize];
        let ascii: String = first_name
            .chars()
            .map(|c| match c {
                'ë' => 'e',
                'é' => 'e',
                'è' => 'e',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Self {
            number,
            first_name,
            last_name: LAST_NAMES[(number * 7 + number / 12) % LAST_NAMES.len()],
            company,
            email: format!("{ascii}.{number}@{domain}.example"),
        }
    }
}

/// The moment, on a weekday between 08:00 and 18:00 UTC, at or after `at`.
fn working_hours(at: UtcTimestamp, rng: &mut Rng) -> UtcTimestamp {
    let mut day = at.day_start();
    // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
    while (day.millis() / DAY_MILLIS + 3) % 7 >= 5 {
        day = day.plus_millis(DAY_MILLIS);
    }
    day.plus_millis(8 * HOUR_MILLIS + rng.below(10 * HOUR_MILLIS as u64) as i64)
}

fn lead_history(
    campaign: &Campaign,
    lead: &Lead,
    plan: &Plan,
    rng: &mut Rng,
    out: &mut Vec<(UtcTimestamp, String)>,
) {
    let replies_at_step = rng
        .chance(campaign.reply_rate)
        .then(|| 1 + rng.below(u64::from(campaign.steps)) as u32);
    // Leads join on any day from the campaign's start to the end, as in a live campaign: the
    // history runs up to the hour the demo was made, not to a quiet stretch days before it.
    let joining_days = ((plan.end.millis() - campaign.starts.millis()) / DAY_MILLIS).max(1);
    let mut at = campaign
        .starts
        .plus_millis(rng.below(joining_days as u64) as i64 * DAY_MILLIS);
    for step in 1..=campaign.steps {
        at = working_hours(at, rng);
        if at > plan.end || campaign.paused_at.is_some_and(|paused| at >= paused) {
            return;
        }
        let body = Body::new(campaign, lead, step, plan);
        out.push((at, body.flat("EMAIL_SENT", at, json!({}))));
        if step == 1 && rng.chance(campaign.bounce_rate) {
            let bounced = at.plus_millis(rng.below(600_000) as i64);
            out.push((bounced, body.flat("EMAIL_BOUNCE", bounced, json!({}))));
            return;
        }
        if rng.chance(campaign.open_rate) {
            let opened = at.plus_millis(rng.below(20 * HOUR_MILLIS as u64) as i64);
            // A quarter of the opens come in the nested API-docs shape.
            let open = if rng.chance(0.25) {
                body.nested("EMAIL_OPENED", opened)
            } else {
                body.flat("EMAIL_OPEN", opened, json!({}))
            };
            push_before(out, plan, opened, open);
            // A fifth of the leads who open an email open it again later (Smartlead sends an
            // event per open).
            if rng.chance(0.2) {
                let again = opened.plus_millis((1 + rng.below(48)) as i64 * HOUR_MILLIS);
                push_before(out, plan, again, body.flat("EMAIL_OPEN", again, json!({})));
            }
            if rng.chance(campaign.click_rate) {
                let clicked = opened.plus_millis(rng.below(600_000) as i64);
                let link = json!({"link_details": ["https://northpeak-growth.example/case-study"]});
                push_before(
                    out,
                    plan,
                    clicked,
                    body.flat("EMAIL_LINK_CLICK", clicked, link),
                );
            }
        }
        if replies_at_step == Some(step) {
            let replied = at.plus_millis((2 + rng.below(30)) as i64 * HOUR_MILLIS);
            let reply = json!({"reply_message": {"text": format!("Hi, thanks {}, let's talk.", lead.first_name)}});
            push_before(out, plan, replied, body.flat("EMAIL_REPLY", replied, reply));
            let categorized = replied.plus_millis(rng.below(3 * HOUR_MILLIS as u64) as i64);
            let category = pick_category(rng);
            let update = json!({"lead_category": {"new_name": category},
                                "lead_data": {"email": lead.email, "first_name": lead.first_name,
                                              "last_name": lead.last_name, "company_name": lead.company}});
            push_before(
                out,
                plan,
                categorized,
                body.flat("LEAD_CATEGORY_UPDATED", categorized, update),
            );
            return;
        }
        if rng.chance(0.008) {
            let left = at.plus_millis(rng.below(24 * HOUR_MILLIS as u64) as i64);
            push_before(
                out,
                plan,
                left,
                body.flat("LEAD_UNSUBSCRIBED", left, json!({})),
            );
            return;
        }
        at = at.plus_millis(campaign.gap_days * DAY_MILLIS);
    }
}

fn push_before(out: &mut Vec<(UtcTimestamp, String)>, plan: &Plan, at: UtcTimestamp, body: String) {
    if at <= plan.end {
        out.push((at, body));
    }
}

fn pick_category(rng: &mut Rng) -> &'static str {
    let mut roll = rng.between(0.0, 1.0);
    for (name, share) in CATEGORIES {
        if roll < share {
            return name;
        }
        roll -= share;
    }
    CATEGORIES[0].0
}

/// What every body about one lead's step shares.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn plan(events: usize, seed: u64) -> Plan {
        Plan {
            events,
            seed,
            end: UtcTimestamp::parse("2026-11-25T12:00:00Z").unwrap(),
            secret: "demo-secret".into(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bodies_and_another_seed_others() {
        let first = generate(&plan(2_000, 7)).bodies;
        assert_eq!(first.len(), 2_000);
        assert_eq!(first, generate(&plan(2_000, 7)).bodies);
        assert_ne!(first, generate(&plan(2_000, 8)).bodies);
    }

    #[test]
    fn the_funnel_looks_like_cold_email() {
        let bodies = generate(&plan(20_000, 1)).bodies;
        let count = |needle: &str| bodies.iter().filter(|b| b.contains(needle)).count() as f64;
        let sent = count("\"EMAIL_SENT\"");
        let opens = count("\"EMAIL_OPEN\"") + count("\"EMAIL_OPENED\"");
        let replies = count("\"EMAIL_REPLY\"");
        // 30–60 % of the sends opened, a fifth of them twice.
        assert!(
            (0.3..0.75).contains(&(opens / sent)),
            "opens/sends {}",
            opens / sent
        );
        assert!(count("\"EMAIL_LINK_CLICK\"") < opens * 0.3);
        assert!(replies > 0.0 && replies < sent * 0.08);
        assert!(count("\"EMAIL_BOUNCE\"") > 0.0 && count("LEAD_CATEGORY_UPDATED") > 0.0);
        assert!(count("\"event\":") > 0.0, "no nested-shape bodies");
        // The history runs up to its end, as a live campaign does (the end is a Wednesday).
        let newest = bodies
            .iter()
            .filter(|b| b.contains("\"EMAIL_SENT\""))
            .map(|b| {
                let value: Value = serde_json::from_str(b).unwrap();
                UtcTimestamp::parse(value["event_timestamp"].as_str().unwrap()).unwrap()
            })
            .max()
            .unwrap();
        let end = plan(0, 0).end;
        assert!(
            end.millis() - newest.millis() < DAY_MILLIS,
            "the last send was {newest}"
        );
        // One campaign is paused three days before the end, and sends nothing after.
        let changes: Vec<Value> = bodies
            .iter()
            .filter(|b| b.contains("CAMPAIGN_STATUS_CHANGED"))
            .map(|b| serde_json::from_str(b).unwrap())
            .collect();
        assert_eq!(changes.len(), 1);
        let paused = UtcTimestamp::parse(changes[0]["event_timestamp"].as_str().unwrap()).unwrap();
        assert!(bodies.iter().all(|b| {
            let value: Value = serde_json::from_str(b).unwrap();
            value["event_type"] != "EMAIL_SENT"
                || value["campaign_id"] != changes[0]["campaign_id"]
                || UtcTimestamp::parse(value["event_timestamp"].as_str().unwrap()).unwrap() < paused
        }));
        // Every send is on a weekday between 08:00 and 18:00 UTC.
        for body in bodies.iter().filter(|b| b.contains("\"EMAIL_SENT\"")) {
            let value: Value = serde_json::from_str(body).unwrap();
            let at = UtcTimestamp::parse(value["event_timestamp"].as_str().unwrap()).unwrap();
            let hour = (at.millis() % DAY_MILLIS) / HOUR_MILLIS;
            assert!((8..18).contains(&hour), "{at}");
            assert!((at.millis() / DAY_MILLIS + 3) % 7 < 5, "{at} is a weekend");
        }
    }
}
