-- An API token may be issued for a limited time (`tokens issue --expires-in 7d`: a contractor's
-- dashboard access, a script's key that should not outlive its job). From `expires_at` on it is
-- refused like a revoked token. NULL: it never expires, as every token issued before.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
