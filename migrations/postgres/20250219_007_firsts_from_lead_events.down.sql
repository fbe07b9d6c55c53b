DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp ON email_events (lead_id, "timestamp" DESC);
CREATE TABLE rollup_lead_firsts (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    email text NOT NULL,
    first_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, email, campaign_id, metric)
);
-- Recomputed from the events, as `rollups rebuild` would.
INSERT INTO rollup_lead_firsts (user_id, campaign_id, metric, email, first_at)
SELECT user_id, scope, metric, email, min("timestamp")
FROM (SELECT e.user_id, s.scope, m.metric, e.email, e."timestamp"
      FROM email_events e
      CROSS JOIN LATERAL (VALUES (e.campaign_id), ('')) AS s (scope)
      CROSS JOIN LATERAL (VALUES (e.event_type),
                                 (CASE e.event_type
                                      WHEN 'email_sent' THEN 'sent'
                                      WHEN 'email_opened' THEN 'opened' WHEN 'email_follow_up_opened' THEN 'opened'
                                      WHEN 'email_clicked' THEN 'clicked' WHEN 'email_follow_up_clicked' THEN 'clicked'
                                      WHEN 'email_replied' THEN 'replied' WHEN 'email_follow_up_replied' THEN 'replied'
                                      WHEN 'email_bounced' THEN 'bounced'
                                      WHEN 'email_unsubscribed' THEN 'unsubscribed'
                                  END)) AS m (metric)
      WHERE m.metric IS NOT NULL) expanded
GROUP BY user_id, scope, metric, email;
