DROP TABLE campaign_names;
