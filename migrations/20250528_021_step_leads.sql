-- rollup_steps counted events only: a lead opening one step's email five times counted five,
-- so a step's opens over its sends could pass 100%. Each row now also counts the leads with an
-- event of its kind at its step (`leads`): the projector adds a lead the first time it has that
-- kind at that step, whatever the order the events arrive in. Existing rows get the count of the
-- events already projected; events above the watermark are counted when the projector reaches
-- them.
ALTER TABLE rollup_steps ADD COLUMN leads INTEGER NOT NULL DEFAULT 0;

CREATE TEMP TABLE step_leads AS
SELECT user_key, campaign_id, COALESCE(sequence_step, 1) AS step, metric, count(DISTINCT email) AS leads
FROM (SELECT user_key, campaign_id, sequence_step, email,
             CASE event_type
                 WHEN 'email_sent' THEN 'sent'
                 WHEN 'email_opened' THEN 'opened' WHEN 'email_follow_up_opened' THEN 'opened'
                 WHEN 'email_clicked' THEN 'clicked' WHEN 'email_follow_up_clicked' THEN 'clicked'
                 WHEN 'email_replied' THEN 'replied' WHEN 'email_follow_up_replied' THEN 'replied'
                 WHEN 'email_bounced' THEN 'bounced'
                 WHEN 'email_unsubscribed' THEN 'unsubscribed'
             END AS metric
      FROM email_event_rows
      WHERE seq IS NULL OR seq <= (SELECT through FROM projection_watermark WHERE id = 1))
WHERE metric IS NOT NULL
GROUP BY user_key, campaign_id, step, metric;

UPDATE rollup_steps SET leads = s.leads
FROM temp.step_leads s JOIN users u ON u.user_key = s.user_key
WHERE rollup_steps.user_id = u.id AND rollup_steps.campaign_id = s.campaign_id
  AND rollup_steps.step = s.step AND rollup_steps.metric = s.metric;

DROP TABLE temp.step_leads;
