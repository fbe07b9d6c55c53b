-- Who each lead is: `first_name`, `last_name` and `company` have been in the schema since the
-- base, and nothing filled them; Smartlead sends them with its events (`to_name`, the category
-- update's `lead_data`). Each part is the newest event's that gave one (src/storage/
-- lead_profiles.rs); `profile_at` is that event's time, so a late delivery from before a change
-- does not undo it. Adding a NULL column rewrites nothing: existing leads are named as their
-- next deliveries arrive.
ALTER TABLE leads ADD COLUMN profile_at timestamptz;
