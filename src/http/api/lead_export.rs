//! `GET /api/leads/export`: every lead the list shows for its filters, as one CSV file, for a
//! spreadsheet or a CRM. The storage reads the leads in one statement on a blocking thread and
//! this streams them out in chunks as they come, so an export of any size holds a chunk or two
//! in memory, and a client that stops reading stops the read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::as_of::AsOf;
use super::queries::{LeadExportParams, Query};
use crate::http::auth::AuthenticatedUser;
use crate::http::error::ErrorBody;
use crate::http::openapi::query::{LeadExport, Projected};
use crate::http::{ApiError, AppState};
use crate::storage::records::{LeadRow, EVERY_ROW};
use crate::storage::StorageError;

/// The columns, in order.
const HEADER: [&str; 10] = [
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "smartlead_campaign_id",
    "campaign_name",
    "smartlead_category",
    "last_email_event",
    "last_event_timestamp",
];
/// Bytes of CSV gathered before they are handed to the response.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the client; beyond them the read waits.
const CHUNKS_QUEUED: usize = 4;
/// How long the read waits for a client that takes nothing before it gives up (and lets go
/// of its database connection).
const STALLED_AFTER: Duration = Duration::from_secs(60);

type Chunk = Result<Bytes, ExportError>;

/// Why an export ended early, once its answer has begun: the transfer is cut short without its
/// final chunk, so that no client takes a partial file for a whole one.
#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the client took nothing for {} s", STALLED_AFTER.as_secs())]
    Stalled,
}

/// Every lead `/api/leads` lists for the same filters, all pages, in its order, as CSV.
#[utoipa::path(
    get,
    path = "/api/leads/export",
    operation_id = "export_leads",
    tag = "read",
    security(("bearer" = [])),
    params(LeadExport, Projected),
    responses(
        (status = 200, description = "Every matching lead, one CSV row each after a header row (`text/csv`); the `X-As-Of` header is the answer's `as_of`. A cell that begins with `=`, `+`, `-`, `@` or a tab is prefixed with `'` so that no spreadsheet runs it as a formula. An error once rows are sent ends the transfer early (no final chunk)", content_type = "text/csv", body = String),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the lead activity has not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn export(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    Query(params): Query<LeadExportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let campaigns = state.store.campaigns(user, None, EVERY_ROW).await?;
    let ids = campaigns.into_iter().map(|(id, _)| id).collect();
    let names = state
        .store
        .campaign_labels(user, ids)
        .await?
        .into_iter()
        .filter_map(|(id, labels)| labels.name.map(|name| (id, name)))
        .collect();

    let (sender, mut receiver) = mpsc::channel::<Chunk>(CHUNKS_QUEUED);
    let batch = Arc::new(Mutex::new(Batch::new(names)));
    let store = state.store.clone();
    actix_web::rt::spawn(async move {
        let (rows, batch_rows) = (sender.clone(), Arc::clone(&batch));
        let read = store
            .export_leads(user, params.filter, move |lead| {
                let mut batch = batch_rows.lock().expect("the batch lock");
                batch.push(&lead);
                // The first row goes at once: it tells the handler the read has begun.
                if batch.rows == 1 || batch.bytes() >= CHUNK_BYTES {
                    let chunk = batch.take();
                    return batch.hand_over(&rows, chunk, STALLED_AFTER);
                }
                ControlFlow::Continue(())
            })
            .await;
        let last = {
            let mut batch = batch.lock().expect("the batch lock");
            match read {
                _ if batch.stalled => Err(ExportError::Stalled),
                Ok(()) => Ok(batch.take()),
                Err(err) => Err(err.into()),
            }
        };
        // Nothing to do if the client has gone; a stalled one gets the end once it reads on.
        let _ = sender.send(last).await;
    });

    // An error before the first chunk is still an error answer; after it, the transfer ends.
    let first = match receiver.recv().await {
        Some(Err(ExportError::Storage(err))) => return Err(err.into()),
        // The queue is empty before the first chunk: it cannot have stalled.
        Some(Err(ExportError::Stalled)) | None => Bytes::new(),
        Some(Ok(chunk)) => chunk,
    };
    let rest = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, ExportError>(first) }),
        rest,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("leads.csv".into())],
        })
        .insert_header(("x-as-of", as_of.to_string()))
        .streaming(body))
}

/// The CSV gathered since the last chunk went out.
struct Batch {
    writer: csv::Writer<Vec<u8>>,
    campaign_names: HashMap<String, String>,
    rows: u64,
    /// The client took nothing for [`STALLED_AFTER`]: the read stopped, and the transfer ends
    /// with [`ExportError::Stalled`].
    stalled: bool,
}

impl Batch {
    fn new(campaign_names: HashMap<String, String>) -> Self {
        let mut writer = writer();
        writer
            .write_record(HEADER)
            .expect("a CSV record writes to memory");
        Self {
            writer,
            campaign_names,
            rows: 0,
            stalled: false,
        }
    }

    fn push(&mut self, lead: &LeadRow) {
        let campaign = lead.smartlead_campaign_id.as_deref().unwrap_or("");
        let campaign_name = self.campaign_names.get(campaign).map(String::as_str);
        let cells = [
            Cow::Borrowed(lead.id.as_str()),
            inert(&lead.email),
            text(&lead.first_name),
            text(&lead.last_name),
            text(&lead.company),
            inert(campaign),
            campaign_name.map_or(Cow::Borrowed(""), inert),
            text(&lead.smartlead_category),
            text(&lead.last_email_event),
            text(&lead.last_event_timestamp),
        ];
        self.writer
            .write_record(cells.iter().map(|cell| cell.as_bytes()))
            .expect("a CSV record writes to memory");
        self.rows += 1;
    }

    fn bytes(&self) -> usize {
        self.writer.get_ref().len()
    }

    fn take(&mut self) -> Bytes {
        let full = std::mem::replace(&mut self.writer, writer());
        Bytes::from(full.into_inner().expect("a CSV writer flushes to memory"))
    }

    /// Queues `chunk` for the client, waiting (this is the read's blocking thread) while the
    /// queue is full; breaks the read when the client has gone or has taken nothing for
    /// `patience`.
    fn hand_over(
        &mut self,
        sender: &mpsc::Sender<Chunk>,
        chunk: Bytes,
        patience: Duration,
    ) -> ControlFlow<()> {
        let started = Instant::now();
        let mut chunk = Ok(chunk);
        loop {
            match sender.try_send(chunk) {
                Ok(()) => return ControlFlow::Continue(()),
                Err(TrySendError::Closed(_)) => return ControlFlow::Break(()),
                Err(TrySendError::Full(back)) if started.elapsed() < patience => {
                    chunk = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Full(_)) => {
                    self.stalled = true;
                    return ControlFlow::Break(());
                }
            }
        }
    }
}

fn text(value: &Option<String>) -> Cow<'_, str> {
    value.as_deref().map_or(Cow::Borrowed(""), inert)
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES))
}

/// `text` as a spreadsheet shows it without running it: a cell that begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is a formula to Excel and its kin, and a lead's name or
/// company is whatever Smartlead was given, so such a cell gets a leading `'` (OWASP's advice
/// on CSV injection).
fn inert(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_waits_for_room_and_gives_up_on_a_client_gone_or_stalled() {
        let patience = Duration::from_millis(50);
        let mut batch = Batch::new(HashMap::new());
        let (sender, mut receiver) = mpsc::channel::<Chunk>(1);
        let chunk = || Bytes::from_static(b"a,b\n");
        assert!(batch.hand_over(&sender, chunk(), patience).is_continue());
        // Room again once the client takes one.
        let taker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            let taken = receiver.blocking_recv().unwrap().unwrap();
            (taken, receiver)
        });
        assert!(batch.hand_over(&sender, chunk(), patience).is_continue());
        let (taken, receiver) = taker.join().unwrap();
        assert_eq!(taken, chunk());
        assert!(!batch.stalled);
        // Full, and nobody takes: stalled.
        assert!(batch.hand_over(&sender, chunk(), patience).is_break());
        assert!(batch.stalled);
        // Gone: the read stops, not stalled.
        let mut batch = Batch::new(HashMap::new());
        drop(receiver);
        assert!(batch.hand_over(&sender, chunk(), patience).is_break());
        assert!(!batch.stalled);
    }

    #[test]
    fn rows_are_csv_after_the_header_with_campaign_names() {
        let names = HashMap::from([("7".to_owned(), "Q4, EU".to_owned())]);
        let mut batch = Batch::new(names);
        batch.push(&LeadRow {
            id: "id-1".into(),
            email: "a@b.example".into(),
            first_name: Some("=cmd".into()),
            last_name: Some("O\"Neil".into()),
            company: None,
            smartlead_campaign_id: Some("7".into()),
            smartlead_category: None,
            last_email_event: Some("email_sent".into()),
            last_event_timestamp: Some("2025-10-14T09:12:44.218Z".into()),
        });
        let text = String::from_utf8(batch.take().to_vec()).unwrap();
        assert_eq!(
            text,
            format!(
                "{}\nid-1,a@b.example,'=cmd,\"O\"\"Neil\",,7,\"Q4, EU\",,email_sent,2025-10-14T09:12:44.218Z\n",
                HEADER.join(",")
            )
        );
        assert!(batch.take().is_empty(), "taken once");
    }

    #[test]
    fn formulas_are_made_inert_and_plain_text_is_kept() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(formula), format!("'{formula}"));
        }
        for plain in ["Anna", "O'Brien", "a=b", "", "Müller & Söhne"] {
            assert!(matches!(inert(plain), Cow::Borrowed(_)), "{plain}");
        }
    }
}
