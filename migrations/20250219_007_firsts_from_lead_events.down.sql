-- Back to the two-column lead index and a first-seen table, recomputed from email_events:
-- for each user, campaign (and the user-wide scope ''), metric and address, the earliest event.
-- A metric is the event's type, and for the headline kinds also the kind, follow-ups included
-- (EventType::headline in src/domain/event_type.rs).
DROP INDEX idx_email_events_lead_timestamp;
CREATE INDEX idx_email_events_lead_timestamp ON email_events (lead_id, timestamp DESC);

CREATE TABLE rollup_lead_firsts (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    email TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (user_id, email, campaign_id, metric)
) WITHOUT ROWID;
INSERT INTO rollup_lead_firsts (user_id, campaign_id, metric, email, first_at)
WITH headlined AS (
         SELECT user_id, campaign_id, event_type, email, timestamp,
                CASE event_type
                    WHEN 'email_sent' THEN 'sent'
                    WHEN 'email_opened' THEN 'opened'
                    WHEN 'email_follow_up_opened' THEN 'opened'
                    WHEN 'email_clicked' THEN 'clicked'
                    WHEN 'email_follow_up_clicked' THEN 'clicked'
                    WHEN 'email_replied' THEN 'replied'
                    WHEN 'email_follow_up_replied' THEN 'replied'
                    WHEN 'email_bounced' THEN 'bounced'
                    WHEN 'email_unsubscribed' THEN 'unsubscribed'
                END AS headline
         FROM email_events),
     typed AS (SELECT user_id, campaign_id, event_type AS metric, email, timestamp FROM headlined
               UNION ALL
               SELECT user_id, campaign_id, headline, email, timestamp FROM headlined
               WHERE headline IS NOT NULL),
     scoped AS (SELECT user_id, campaign_id, metric, email, timestamp FROM typed
                UNION ALL
                SELECT user_id, '', metric, email, timestamp FROM typed)
SELECT user_id, campaign_id, metric, email, min(timestamp)
FROM scoped GROUP BY user_id, campaign_id, metric, email;
