//! The authenticated read API under `/api`. Every answer is scoped to the token's user; another
//! user's campaign, lead or event is a 404, indistinguishable from one that does not exist.

mod as_of;
pub(crate) mod bodies;
pub(crate) mod campaigns;
pub(crate) mod events;
pub(crate) mod held;
pub(crate) mod lead_export;
pub(crate) mod leads;
pub(crate) mod me;
mod names;
pub(crate) mod params;
mod queries;
pub(crate) mod stats_view;

use actix_web::web;

pub use bodies::{DeliveryAnswer, Health};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(me::configure)
        .configure(campaigns::configure)
        .configure(leads::configure)
        .configure(events::configure)
        .configure(held::configure);
}
