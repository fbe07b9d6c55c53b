//! Registering this hub's webhook on Smartlead campaigns: create it where missing, update it
//! where its event types drifted, leave every other webhook alone, and read it back to verify.

use serde::Serialize;
use serde_json::json;

use super::client::{ClientError, SmartleadClient};
use crate::smartlead::rest::{Webhook, WEBHOOK_EVENT_TYPES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ensured {
    Created,
    Updated,
    Unchanged,
}

pub const WEBHOOK_NAME: &str = "smartlead-hub";

/// The campaign's webhooks.
pub fn list(client: &mut SmartleadClient, campaign: &str) -> Result<Vec<Webhook>, ClientError> {
    client.get(&format!("/campaigns/{campaign}/webhooks"))
}

/// Makes sure `campaign` has exactly one webhook to `url` with this hub's event types.
pub fn ensure(
    client: &mut SmartleadClient,
    campaign: &str,
    url: &str,
) -> Result<Ensured, ClientError> {
    let path = format!("/campaigns/{campaign}/webhooks");
    let ours = list(client, campaign)?
        .into_iter()
        .find(|hook| hook.webhook_url == url);
    let wanted = |hook: &Webhook| {
        let mut have: Vec<&str> = hook.event_types.iter().map(String::as_str).collect();
        have.sort_unstable();
        let mut want = WEBHOOK_EVENT_TYPES.to_vec();
        want.sort_unstable();
        have == want
    };
    let outcome = match &ours {
        Some(hook) if wanted(hook) => return Ok(Ensured::Unchanged),
        Some(_) => Ensured::Updated,
        None => Ensured::Created,
    };
    // `categories` is left out: an empty list is refused, and its absence means all categories.
    let body = json!({
        "id": ours.as_ref().map(|hook| hook.id),
        "name": WEBHOOK_NAME,
        "webhook_url": url,
        "event_types": WEBHOOK_EVENT_TYPES,
    });
    let _: serde_json::Value = client.post(&path, &body)?;
    let verified = list(client, campaign)?
        .into_iter()
        .any(|hook| hook.webhook_url == url && wanted(&hook));
    if !verified {
        return Err(ClientError::Shape {
            method: "GET",
            path,
            reason: "the webhook was saved but is not listed with its event types".into(),
        });
    }
    Ok(outcome)
}
