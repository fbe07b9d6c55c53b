//! The projector's arithmetic, the same for every backend. Analytics rollups and each lead's
//! latest activity are derived from the stored events; the acknowledgement path stores the event
//! (dedupe included) and nothing derived, and the projector applies the events committed since
//! its watermark in large batches, in one transaction that also moves the watermark. A crash at
//! any point replays exactly the events above the watermark: none lost, none counted twice.
//!
//! Batching is where the saving is: the hot rollup rows (this hour and day, each campaign's
//! totals) and the leads' activity entries are written once per projection, a few times a
//! second, instead of once per commit of the writer.
//!
//! A backend supplies the pending events in order and, for a lead, its earliest events among
//! those already projected; [`fold`] does the rest and a backend writes what it returns.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::{CampaignId, EventType, UserId, UtcTimestamp};
use crate::storage::records::AwaitedWatermark;
use crate::storage::rollup_counts::{metrics, Instant, PendingCounts, ALL_CAMPAIGNS};
use crate::storage::StorageError;

/// How often the projector runs while events arrive: the lag readers see is about this plus one
/// projection's length.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// The service's default for the most events one projection applies (`--projection-batch`): on
/// SQLite a projection holds up the writer's batches while it runs, so it is kept to a few ms.
pub const DEFAULT_BATCH: usize = 64;

/// The most events one projection of the CLI's applies (nothing waits behind it), so that a
/// backlog is worked off in transactions of bounded length.
pub const MAX_EVENTS: usize = 20_000;

/// How long a read with `min_event` waits for the projector before it is refused (503).
pub const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// An event committed but not yet projected, as the projector reads it.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub seq: i64,
    pub user: UserId,
    /// `None` only when the lead was deleted since (its user is being removed).
    pub lead: Option<String>,
    pub campaign: CampaignId,
    pub event_type: EventType,
    pub at: UtcTimestamp,
    pub step: u32,
    /// When the delivery was stored: the projection lag is measured from here.
    pub received_at: UtcTimestamp,
}

/// A lead's latest email activity: the newest event, ties broken by type then campaign (a total
/// order, so any arrival order ends in the same row).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Activity {
    pub at: String,
    pub event_type: &'static str,
    pub campaign: String,
}

/// The earliest projected event of one metric for a lead: in the event's campaign, and in any.
#[derive(Debug, Clone, Default)]
pub struct Earliest {
    pub metric: &'static str,
    pub in_campaign: Option<String>,
    pub user_wide: Option<String>,
}

/// What the events already projected say about an event's lead.
#[derive(Debug, Clone, Default)]
pub struct LeadHistory {
    /// Its earliest event of each metric the event's type counts towards.
    pub earliest: Vec<Earliest>,
    /// Whether it has an event of the event's headline kind at the event's step of its campaign
    /// (`false` for a type without a headline kind).
    pub step_seen: bool,
}

/// What one projection writes.
#[derive(Debug, Default)]
pub struct Projection {
    pub counts: PendingCounts,
    /// (user, lead id) → the lead's newest activity among the batch's events (applied only if
    /// newer than the stored one). In key order, so that backends lock leads in one order.
    pub activity: BTreeMap<(String, String), Activity>,
    /// The watermark after this projection: the last event's seq.
    pub through: i64,
    pub events: usize,
    /// The earliest `received_at` of the batch, for the lag.
    pub oldest_received: Option<UtcTimestamp>,
}

/// Folds `events` (not projected yet, oldest first) into the rows to write. `history(event,
/// lead)` answers for the event's lead, campaign, type and step from the events already
/// projected only: the batch's own earlier events are overlaid here, in order, so each event
/// sees exactly the events projected before it, as if they had been applied one by one.
pub fn fold(
    events: &[PendingEvent],
    mut history: impl FnMut(&PendingEvent, &str) -> Result<LeadHistory, StorageError>,
) -> Result<Projection, StorageError> {
    let mut projection = Projection::default();
    // (lead, campaign or ALL_CAMPAIGNS, metric) → the earliest time among the batch so far.
    let mut overlay: HashMap<(String, String, &'static str), String> = HashMap::new();
    // (lead, campaign, step, headline kind) of the batch's events so far.
    let mut steps_overlay: HashSet<(String, String, u32, &'static str)> = HashSet::new();
    // The stored answers do not change during a projection: one lookup per lead, campaign, type
    // and step.
    let mut stored: HashMap<(String, String, EventType, u32), LeadHistory> = HashMap::new();
    for event in events {
        let instant = Instant::of(event.at);
        let at = event.at.to_string();
        let user = event.user.to_string();
        // A lead's first event of its headline kind at its step (an event without a lead, whose
        // lead was deleted since, counts as one).
        let mut new_at_step = true;
        match &event.lead {
            Some(lead) => {
                let key = (
                    lead.clone(),
                    event.campaign.as_str().to_owned(),
                    event.event_type,
                    event.step,
                );
                let found = match stored.get(&key) {
                    Some(found) => found.clone(),
                    None => {
                        let found = history(event, lead)?;
                        stored.insert(key, found.clone());
                        found
                    }
                };
                if let Some(kind) = event.event_type.headline() {
                    let step_key = (
                        lead.clone(),
                        event.campaign.as_str().to_owned(),
                        event.step,
                        kind.as_str(),
                    );
                    new_at_step = !found.step_seen && steps_overlay.insert(step_key);
                }
                for metric in found.earliest {
                    for (scope, previous) in [
                        (event.campaign.as_str(), metric.in_campaign),
                        (ALL_CAMPAIGNS, metric.user_wide),
                    ] {
                        let key = (lead.clone(), scope.to_owned(), metric.metric);
                        let previous = earlier(previous, overlay.get(&key).cloned());
                        projection.counts.record(
                            (user.clone(), scope.to_owned(), metric.metric),
                            &instant,
                            previous.as_deref(),
                        )?;
                        let seen = overlay.entry(key).or_insert_with(|| at.clone());
                        if at < *seen {
                            *seen = at.clone();
                        }
                    }
                }
                let activity = Activity {
                    at: at.clone(),
                    event_type: event.event_type.as_str(),
                    campaign: event.campaign.as_str().to_owned(),
                };
                let latest = projection
                    .activity
                    .entry((user.clone(), lead.clone()))
                    .or_insert_with(|| activity.clone());
                if activity > *latest {
                    *latest = activity;
                }
            }
            None => {
                for metric in metrics(event.event_type) {
                    for scope in [event.campaign.as_str(), ALL_CAMPAIGNS] {
                        projection.counts.record(
                            (user.clone(), scope.to_owned(), metric),
                            &instant,
                            None,
                        )?;
                    }
                }
            }
        }
        if let Some(kind) = event.event_type.headline() {
            projection.counts.count_step(
                event.user,
                &event.campaign,
                event.step,
                kind,
                new_at_step,
            );
        }
        projection.through = event.seq;
        projection.events += 1;
        if projection
            .oldest_received
            .is_none_or(|t| event.received_at < t)
        {
            projection.oldest_received = Some(event.received_at);
        }
    }
    Ok(projection)
}

/// The wait behind `min_event`, for every backend: reads (watermark, newest seq) from the
/// database (another process may have projected), and while the watermark is short asks this
/// process's projector to run now and waits for its next commit, or briefly for another's.
pub async fn await_watermark<F, Fut>(
    min_event: i64,
    limit: Duration,
    mut read: F,
    request: impl Fn(),
    mut commits: watch::Receiver<i64>,
) -> Result<AwaitedWatermark, StorageError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(i64, i64), StorageError>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (through, latest) = read().await?;
        if through >= min_event {
            return Ok(AwaitedWatermark::Reached(through));
        }
        if min_event > latest {
            return Ok(AwaitedWatermark::Unissued(latest));
        }
        commits.mark_unchanged();
        request();
        let next = deadline.min(tokio::time::Instant::now() + Duration::from_millis(50));
        if let Ok(Err(_)) = tokio::time::timeout_at(next, commits.changed()).await {
            // This process's projector has stopped: only the database can still change.
            tokio::time::sleep_until(next).await;
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(AwaitedWatermark::Behind(through));
        }
    }
}

fn earlier(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::rollup_counts::Drained;

    fn event(seq: i64, lead: &str, event_type: EventType, at: &str) -> PendingEvent {
        PendingEvent {
            seq,
            user: UserId::from_uuid(uuid::Uuid::nil()),
            lead: Some(lead.to_owned()),
            campaign: CampaignId::parse("42").unwrap(),
            event_type,
            at: UtcTimestamp::parse(at).unwrap(),
            step: 1,
            received_at: UtcTimestamp::parse("2026-03-02T12:00:00Z").unwrap(),
        }
    }

    /// What a backend's lookup answers from `projected`: the earliest of each metric, and
    /// whether the lead had the event's headline kind at its step.
    fn lookup(projected: &[PendingEvent], event: &PendingEvent, lead: &str) -> LeadHistory {
        let step_seen = event.event_type.headline().is_some_and(|kind| {
            projected.iter().any(|e| {
                e.lead.as_deref() == Some(lead)
                    && e.step == event.step
                    && e.event_type.headline() == Some(kind)
            })
        });
        let earliest = metrics(event.event_type)
            .map(|metric| {
                let times = projected
                    .iter()
                    .filter(|e| e.lead.as_deref() == Some(lead))
                    .filter(|e| metrics(e.event_type).any(|m| m == metric))
                    .map(|e| e.at.to_string());
                let first = times.min();
                Earliest {
                    metric,
                    in_campaign: first.clone(),
                    user_wide: first,
                }
            })
            .collect();
        LeadHistory {
            earliest,
            step_seen,
        }
    }

    type StepRows = Vec<(u32, &'static str, i64, i64)>;

    fn rows(mut drained: Drained) -> (Vec<(String, String, i64, i64)>, StepRows) {
        let mut hourly: Vec<_> = drained
            .hourly
            .drain(..)
            .map(|r| {
                (
                    format!("{}/{}", r.scope.1, r.scope.2),
                    r.hour,
                    r.events,
                    r.new_leads,
                )
            })
            .collect();
        hourly.sort();
        let mut steps: StepRows = drained
            .steps
            .drain(..)
            .map(|r| (r.step, r.metric, r.events, r.leads))
            .collect();
        steps.sort();
        (hourly, steps)
    }

    /// One projection of a batch writes what projecting its events one at a time writes: the
    /// overlay stands in for the batch's own events, which the lookup does not see yet.
    #[test]
    fn a_batch_counts_as_its_events_one_by_one() {
        let events = [
            event(1, "a", EventType::Opened, "2026-03-02T10:15:00Z"),
            event(2, "a", EventType::Opened, "2026-03-02T09:05:00Z"),
            event(3, "b", EventType::Opened, "2026-03-02T09:30:00Z"),
            event(4, "a", EventType::FollowUpOpened, "2026-03-02T08:59:00Z"),
            event(5, "a", EventType::Opened, "2026-03-02T09:05:00Z"),
            PendingEvent {
                step: 2,
                ..event(6, "a", EventType::FollowUpOpened, "2026-03-04T09:00:00Z")
            },
            PendingEvent {
                step: 2,
                ..event(7, "a", EventType::Opened, "2026-03-04T09:01:00Z")
            },
        ];
        let batch = fold(&events, |e, lead| Ok(lookup(&[], e, lead))).unwrap();

        let mut one_by_one = PendingCounts::default();
        for (i, single) in events.iter().enumerate() {
            let done = fold(std::slice::from_ref(single), |e, lead| {
                Ok(lookup(&events[..i], e, lead))
            })
            .unwrap();
            one_by_one.merge(done.counts);
        }
        let mut batch_counts = batch.counts;
        let (hourly, steps) = rows(batch_counts.drain());
        assert_eq!((hourly, steps.clone()), rows(one_by_one.drain()));
        // Step 1: five opens by two leads; step 2: two opens by one.
        assert_eq!(steps, [(1, "opened", 5, 2), (2, "opened", 2, 1)]);
        assert_eq!(batch.through, 7);
        assert_eq!(batch.events, 7);
        // The lead's newest activity: the step-2 open of 03-04 09:01.
        let latest = &batch.activity[&(uuid::Uuid::nil().to_string(), "a".to_owned())];
        assert_eq!(
            (latest.at.as_str(), latest.event_type),
            ("2026-03-04T09:01:00.000Z", "email_opened")
        );
    }
}
