use super::WebhookSecret;

/// One webhook body as a JSON object, with the secret it carried taken out of the payload.
#[derive(Debug)]
pub struct Delivery {
    pub secret_key: Option<WebhookSecret>,
    pub(super) payload: serde_json::Map<String, serde_json::Value>,
}
