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

/// A new lead's key, given by the service's insert itself. Without it, migration 015's trigger
/// gives it after the insert: the row goes into the key's index among the NULLs (its first
/// page) and moves to the end, so each new lead wrote one page more (BENCHMARKS.md, "Issue 19,
/// sixth step"). The maximum is read off that unique index's last entry.
pub const NEXT_LEAD_KEY_SQL: &str = "(SELECT coalesce(max(lead_key), 0) + 1 FROM leads)";

/// The id of the lead an event row (`rows`) names, as a column of a query over the rows.
pub fn lead_id_of(rows: &str) -> String {
    format!("(SELECT l.id FROM leads l WHERE l.lead_key = {rows}.lead_key)")
}

/// The id of the user an event row (`rows`) names.
pub fn user_id_of(rows: &str) -> String {
    format!("(SELECT u.id FROM users u WHERE u.user_key = {rows}.user_key)")
}
