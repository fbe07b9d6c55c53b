//! `GET /api/leads/export`: every lead the list shows for its filters, as one CSV file, for a
//! spreadsheet or a CRM. The storage reads the leads in one statement (one snapshot) on a
//! blocking thread, straight into a temporary file; the answer is then sent from that file at
//! whatever pace the client reads. So memory holds one row at a time, and the read, with the
//! snapshot that keeps SQLite's WAL from being checkpointed past it, ends as soon as the rows
//! are read, not when a slow client has taken them all.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;

use super::as_of::AsOf;
use super::queries::{LeadExportParams, Query};
use crate::domain::UserId;
use crate::http::auth::AuthenticatedUser;
use crate::http::error::ErrorBody;
use crate::http::openapi::query::{LeadExport, Projected};
use crate::http::{ApiError, AppState};
use crate::storage::records::{LeadRow, EVERY_ROW};

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
/// Bytes of the file read for each piece of the answer.
const CHUNK_BYTES: usize = 64 * 1024;

/// Every lead `/api/leads` lists for the same filters, all pages, in its order, as CSV.
#[utoipa::path(
    get,
    path = "/api/leads/export",
    operation_id = "export_leads",
    tag = "read",
    security(("bearer" = [])),
    params(LeadExport, Projected),
    responses(
        (status = 200, description = "Every matching lead, one CSV row each after a header row (`text/csv`, with its `Content-Length`); the `X-As-Of` header is the answer's `as_of`. A cell that begins with `=`, `+`, `-`, `@` or a tab is prefixed with `'` so that no spreadsheet runs it as a formula", content_type = "text/csv", body = String),
        (status = 400, description = "A parameter does not parse (the message names it)", body = ErrorBody),
        (status = 401, description = "Missing, malformed, unknown or revoked token", body = ErrorBody),
        (status = 500, description = "The export's temporary file could not be written (the log says why)", body = ErrorBody),
        (status = 503, description = "The database cannot answer now, or the lead activity has not reached `min_event` yet; retry", body = ErrorBody),
    )
)]
pub(crate) async fn export(
    AuthenticatedUser(user): AuthenticatedUser,
    AsOf(as_of): AsOf,
    Query(params): Query<LeadExportParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let names = campaign_names(&state, user).await?;
    // Held until the rows are in the file (not while they are sent).
    let turn = state
        .export_turns
        .acquire()
        .await
        .expect("the export semaphore is never closed");
    let spool = web::block(move || Spool::new(names))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let spool = Arc::new(Mutex::new(Some(spool)));
    let writer = Arc::clone(&spool);
    state
        .store
        .export_leads(user, params.filter, move |lead| {
            match writer.lock().expect("the spool lock").as_mut() {
                Some(spool) => spool.push(&lead),
                None => ControlFlow::Break(()),
            }
        })
        .await?;
    let spool = spool
        .lock()
        .expect("the spool lock")
        .take()
        .expect("the spool is taken once");
    let (file, length) = web::block(move || spool.finish())
        .await
        .map_err(internal)?
        .map_err(internal)?;
    drop(turn);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("leads.csv".into())],
        })
        .insert_header(("x-as-of", as_of.to_string()))
        .no_chunking(length)
        .streaming(pieces(file)))
}

fn internal(err: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::Internal(Box::new(err))
}

/// The names of the user's campaigns, by id (a campaign without one is left out).
async fn campaign_names(
    state: &AppState,
    user: UserId,
) -> Result<HashMap<String, String>, ApiError> {
    let campaigns = state.store.campaigns(user, None, EVERY_ROW).await?;
    let ids = campaigns.into_iter().map(|(id, _)| id).collect();
    Ok(state
        .store
        .campaign_labels(user, ids)
        .await?
        .into_iter()
        .filter_map(|(id, labels)| labels.name.map(|name| (id, name)))
        .collect())
}

/// The file, [`CHUNK_BYTES`] at a time, each read on the blocking pool when the client is
/// ready for it (a client that stalls holds the file, not a thread).
fn pieces(file: File) -> impl futures_util::Stream<Item = Result<Bytes, io::Error>> {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let (file, piece) = web::block(move || {
            let mut piece = vec![0; CHUNK_BYTES];
            let read = file.read(&mut piece)?;
            piece.truncate(read);
            Ok::<_, io::Error>((file, piece))
        })
        .await
        .map_err(io::Error::other)??;
        Ok((!piece.is_empty()).then(|| (Bytes::from(piece), file)))
    })
}

/// The CSV written so far, in an unnamed temporary file (`TMPDIR`; gone when closed).
struct Spool {
    writer: csv::Writer<File>,
    campaign_names: HashMap<String, String>,
    /// The first write that failed: the read stops there and the export answers 500.
    failed: Option<csv::Error>,
}

impl Spool {
    fn new(campaign_names: HashMap<String, String>) -> io::Result<Self> {
        let mut writer = csv::Writer::from_writer(tempfile::tempfile()?);
        writer.write_record(HEADER)?;
        Ok(Self {
            writer,
            campaign_names,
            failed: None,
        })
    }

    fn push(&mut self, lead: &LeadRow) -> ControlFlow<()> {
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
        match self
            .writer
            .write_record(cells.iter().map(|cell| cell.as_bytes()))
        {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.failed = Some(err);
                ControlFlow::Break(())
            }
        }
    }

    /// The file, rewound, and its length; or the write that failed.
    fn finish(self) -> io::Result<(File, u64)> {
        if let Some(err) = self.failed {
            return Err(err.into());
        }
        let mut file = self.writer.into_inner().map_err(|err| err.into_error())?;
        let length = file.seek(SeekFrom::End(0))?;
        file.rewind()?;
        Ok((file, length))
    }
}

fn text(value: &Option<String>) -> Cow<'_, str> {
    value.as_deref().map_or(Cow::Borrowed(""), inert)
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

    fn spooled(spool: Spool) -> String {
        let (mut file, length) = spool.finish().unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text.len() as u64, length);
        text
    }

    #[test]
    fn rows_are_csv_after_the_header_with_campaign_names() {
        let names = HashMap::from([("7".to_owned(), "Q4, EU".to_owned())]);
        let mut spool = Spool::new(names).unwrap();
        let pushed = spool.push(&LeadRow {
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
        assert!(pushed.is_continue());
        assert_eq!(
            spooled(spool),
            format!(
                "{}\nid-1,a@b.example,'=cmd,\"O\"\"Neil\",,7,\"Q4, EU\",,email_sent,2025-10-14T09:12:44.218Z\n",
                HEADER.join(",")
            )
        );
    }

    #[test]
    fn an_export_of_nothing_is_its_header() {
        let spool = Spool::new(HashMap::new()).unwrap();
        assert_eq!(spooled(spool), format!("{}\n", HEADER.join(",")));
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
