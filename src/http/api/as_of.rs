//! `min_event=<seq>` and `as_of`: the analytics and the leads' activity are derived from the
//! stored events by the projector, a fraction of a second behind them. Every answer built from
//! derived data says which events it includes (`as_of`: every event whose `seq` is at or below
//! it), and a client that needs its own write in the answer passes the `seq` the webhook gave it
//! back as `min_event`: the request then waits (briefly: the projector is asked to run at once)
//! until the watermark has reached it. Past the wait's limit the answer is a 503
//! `projection_behind`, never an answer that silently lacks the event.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::params::Params;
use crate::http::{ApiError, AppState};
use crate::storage::projection::WAIT_LIMIT;
use crate::storage::records::AwaitedWatermark;

/// The watermark the answer reflects, after any wait `min_event` asked for.
pub struct AsOf(pub i64);

impl FromRequest for AsOf {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let min_event = Params::parse(req.query_string()).and_then(|p| p.min_event());
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Internal("the read API runs without its state".into()))?;
            let Some(min_event) = min_event? else {
                return Ok(AsOf(state.store.watermark().await?));
            };
            match state.store.await_watermark(min_event, WAIT_LIMIT).await? {
                AwaitedWatermark::Reached(through) => Ok(AsOf(through)),
                AwaitedWatermark::Behind(as_of) => {
                    Err(ApiError::ProjectionBehind { min_event, as_of })
                }
                AwaitedWatermark::Unissued(latest) => Err(ApiError::InvalidQuery {
                    name: "min_event".into(),
                    reason: format!("no event has this seq yet (the newest is {latest})"),
                }),
            }
        })
    }
}
