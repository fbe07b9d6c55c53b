-- rollup_steps counted events only: a lead opening one step's email five times counted five,
-- so a step's opens over its sends could pass 100%. Each row now also counts the leads with an
-- event of its kind at its step (`leads`): the projector adds a lead the first time it has that
-- kind at that step, whatever the order the events arrive in. Existing rows get the count of the
-- events already projected (those not in the projector's queue); queued events are counted when
-- the projector reaches them.
ALTER TABLE rollup_steps ADD COLUMN leads bigint NOT NULL DEFAULT 0;

UPDATE rollup_steps r SET leads = s.leads
FROM (SELECT user_id, campaign_id, COALESCE(sequence_step, 1) AS step, metric, count(DISTINCT email) AS leads
      FROM (SELECT e.user_id, e.campaign_id, e.sequence_step, e.email,
                   CASE e.event_type
                       WHEN 'email_sent' THEN 'sent'
                       WHEN 'email_opened' THEN 'opened' WHEN 'email_follow_up_opened' THEN 'opened'
                       WHEN 'email_clicked' THEN 'clicked' WHEN 'email_follow_up_clicked' THEN 'clicked'
                       WHEN 'email_replied' THEN 'replied' WHEN 'email_follow_up_replied' THEN 'replied'
                       WHEN 'email_bounced' THEN 'bounced'
                       WHEN 'email_unsubscribed' THEN 'unsubscribed'
                   END AS metric
            FROM email_events e
            WHERE e.seq IS NULL
               OR NOT EXISTS (SELECT 1 FROM projection_queue q WHERE q.user_id = e.user_id AND q.seq = e.seq)) typed
      WHERE metric IS NOT NULL
      GROUP BY 1, 2, 3, 4) s
WHERE r.user_id = s.user_id AND r.campaign_id = s.campaign_id AND r.step = s.step AND r.metric = s.metric;
