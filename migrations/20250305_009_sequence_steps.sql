-- Per-step analytics: each email event keeps the sequence step it belongs to (Smartlead's
-- `sequence_number`, 1 when absent), and rollup_steps counts events per campaign, step and
-- headline kind, maintained by the ingest like the other rollups and recomputable from
-- email_events (`rollups rebuild|check`). `GET /api/campaigns/{id}/steps` reads it: a handful
-- of rows per campaign, never a scan of events.
ALTER TABLE email_events ADD COLUMN sequence_step INTEGER;

-- Existing events: the step from their stored payload. A payload pruned by retention no longer
-- has it; those count as step 1.
UPDATE email_events
SET sequence_step = max(1, COALESCE(CAST(json_extract(event_data, '$.sequence_number') AS INTEGER), 1));

CREATE TABLE rollup_steps (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL,
    step INTEGER NOT NULL CHECK (step >= 1),
    -- A headline kind: sent, opened, clicked, replied, bounced, unsubscribed (follow-ups
    -- folded into their kind, as EventType::headline says).
    metric TEXT NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (user_id, campaign_id, step, metric)
) WITHOUT ROWID;

INSERT INTO rollup_steps (user_id, campaign_id, step, metric, events)
SELECT user_id, campaign_id, sequence_step, metric, count(*)
FROM (SELECT user_id, campaign_id, sequence_step,
             CASE event_type
                 WHEN 'email_sent' THEN 'sent'
                 WHEN 'email_opened' THEN 'opened' WHEN 'email_follow_up_opened' THEN 'opened'
                 WHEN 'email_clicked' THEN 'clicked' WHEN 'email_follow_up_clicked' THEN 'clicked'
                 WHEN 'email_replied' THEN 'replied' WHEN 'email_follow_up_replied' THEN 'replied'
                 WHEN 'email_bounced' THEN 'bounced'
                 WHEN 'email_unsubscribed' THEN 'unsubscribed'
             END AS metric
      FROM email_events)
WHERE metric IS NOT NULL
GROUP BY user_id, campaign_id, sequence_step, metric;
