//! Background work the service runs beside its routes, through the same storage boundary and
//! never on a delivery's acknowledgement path.

pub mod reconcile;
pub mod retention;
