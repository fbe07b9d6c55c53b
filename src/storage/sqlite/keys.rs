//! Integer keys (migration 015): an event row names its user and its lead by a small integer,
//! not by their 36-character UUIDs, in the row and in each index that begins with them. The
//! public ids stay the UUIDs; these turn one into the key inside a statement (an index lookup
//! the planner evaluates once).

/// The key of the user whose id is the parameter `param` (e.g. `?1`).
pub fn user_key(param: &str) -> String {
    format!("(SELECT user_key FROM users WHERE id = {param})")
}

/// The key of the lead whose id is the parameter `param`.
pub fn lead_key(param: &str) -> String {
    format!("(SELECT lead_key FROM leads WHERE id = {param})")
}

/// The id of the lead an event row (`rows`) names, as a column of a query over the rows.
pub fn lead_id_of(rows: &str) -> String {
    format!("(SELECT l.id FROM leads l WHERE l.lead_key = {rows}.lead_key)")
}

/// The id of the user an event row (`rows`) names.
pub fn user_id_of(rows: &str) -> String {
    format!("(SELECT u.id FROM users u WHERE u.user_key = {rows}.user_key)")
}
