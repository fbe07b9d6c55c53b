//! The authenticated read API under `/api`. Every answer is scoped to the token's user; another
//! user's campaign, lead or event is a 404, indistinguishable from one that does not exist.

mod bodies;
mod campaigns;
mod events;
mod leads;
mod me;
mod params;
mod queries;
mod stats_view;

use actix_web::web;

pub use bodies::Health;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(me::configure)
        .configure(campaigns::configure)
        .configure(leads::configure)
        .configure(events::configure);
}
