-- Below this version a token never expires, so a token issued with an expiry is revoked (at its
-- expiry, or now if that is later): a rollback must not make a short-lived token permanent.
UPDATE api_tokens
SET revoked_at = COALESCE(revoked_at, min(expires_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))
WHERE expires_at IS NOT NULL;
ALTER TABLE api_tokens DROP COLUMN expires_at;
