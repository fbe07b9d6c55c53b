//! Smartlead's wire formats → domain events. Knows nothing of SQL or HTTP.
//!
//! Smartlead sends one event per request in three envelopes (flat help-centre, nested API-docs,
//! flat with `lead{}`), two event-name sets, ids as numbers or strings, and deprecated fields next
//! to their replacements. [`parse_delivery`] accepts all of them and yields the domain's
//! [`SmartleadEvent`](crate::domain::SmartleadEvent): an email event (one of the eleven
//! normalized types) or another event that is kept as is.

mod auth;
pub mod dedupe;
mod error;
mod event;
mod fields;
mod mapping;
mod parse;
pub mod rest;
mod strict_json;

pub use auth::{authenticate, AuthError, WebhookSecret};
pub use error::{MappingError, SmartleadError};
pub use event::Delivery;
pub use mapping::{classify, SmartleadKind, MAPPING_TABLE};
pub use parse::parse_delivery;
