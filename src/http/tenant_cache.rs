//! Webhook tenants (org → user and secret), remembered for a moment. Resolving the org is the
//! one database read on the webhook path: without the cache every delivery paid a hop to the
//! blocking pool and a pooled connection for the same few rows. Only known orgs are kept, so
//! the map is bounded by the number of users; unknown orgs are looked up every time.
//!
//! Users and secrets change from another process (the CLI), so an entry is trusted only for
//! `ttl`: a rotated or removed secret stops being accepted within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::OrgId;
use crate::storage::records::WebhookTenant;

pub struct TenantCache {
    ttl: Duration,
    entries: Mutex<HashMap<OrgId, (Instant, WebhookTenant)>>,
}

impl TenantCache {
    /// A zero `ttl` turns the cache off.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The org's tenant, if it was looked up less than `ttl` ago.
    pub fn get(&self, org: &OrgId) -> Option<WebhookTenant> {
        self.get_at(org, Instant::now())
    }

    pub fn put(&self, tenant: &WebhookTenant) {
        self.put_at(tenant, Instant::now());
    }

    /// [`Self::get`] as of `now` (the tests' clock).
    fn get_at(&self, org: &OrgId, now: Instant) -> Option<WebhookTenant> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(org)
            .filter(|(stored, _)| now.saturating_duration_since(*stored) < self.ttl)
            .map(|(_, tenant)| tenant.clone())
    }

    fn put_at(&self, tenant: &WebhookTenant, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(tenant.org_id.clone(), (now, tenant.clone()));
    }

    /// Forgets the org, so that its next delivery reads the database again.
    pub fn forget(&self, org: &OrgId) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(org);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(org: &str, secret: &str) -> WebhookTenant {
        WebhookTenant {
            user_id: "0190b8a0-0000-7000-8000-000000000001".parse().unwrap(),
            org_id: OrgId::parse(org).unwrap(),
            webhook_secret: Some(secret.into()),
            previous_webhook_secret: None,
        }
    }

    #[test]
    fn entries_are_served_until_their_time_is_up_and_not_a_moment_longer() {
        let ttl = Duration::from_millis(50);
        let cache = TenantCache::new(ttl);
        let org = OrgId::parse("org-1").unwrap();
        let start = Instant::now();
        assert!(cache.get_at(&org, start).is_none());
        cache.put_at(&tenant("org-1", "s1"), start);
        let secret = |at| cache.get_at(&org, at).and_then(|t| t.webhook_secret);
        assert_eq!(secret(start).as_deref(), Some("s1"));
        assert_eq!(
            secret(start + ttl - Duration::from_nanos(1)).as_deref(),
            Some("s1")
        );
        assert_eq!(
            secret(start + ttl),
            None,
            "an expired entry must not be served"
        );
    }

    #[test]
    fn a_zero_ttl_keeps_nothing_and_forget_drops_an_entry() {
        let off = TenantCache::new(Duration::ZERO);
        off.put(&tenant("org-1", "s1"));
        assert!(off.get(&OrgId::parse("org-1").unwrap()).is_none());

        let cache = TenantCache::new(Duration::from_secs(60));
        cache.put(&tenant("org-2", "s2"));
        let org = OrgId::parse("org-2").unwrap();
        cache.forget(&org);
        assert!(cache.get(&org).is_none());
    }
}
