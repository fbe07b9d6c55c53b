-- Per-step analytics: each email event keeps its sequence step, and rollup_steps counts events
-- per campaign, step and headline kind.
ALTER TABLE email_events ADD COLUMN sequence_step integer;

UPDATE email_events
SET sequence_step = greatest(1, COALESCE(
    CASE WHEN event_data ->> 'sequence_number' ~ '^-?[0-9]{1,9}$'
         THEN (event_data ->> 'sequence_number')::integer END, 1));

CREATE TABLE rollup_steps (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id text COLLATE "C" NOT NULL,
    step integer NOT NULL CHECK (step >= 1),
    metric text COLLATE "C" NOT NULL,
    events bigint NOT NULL,
    PRIMARY KEY (user_id, campaign_id, step, metric)
);

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
      FROM email_events) typed
WHERE metric IS NOT NULL
GROUP BY user_id, campaign_id, sequence_step, metric;
