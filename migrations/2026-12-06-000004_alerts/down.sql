ALTER TABLE purges DROP COLUMN alerts;
DROP TABLE alert_events;
DROP TABLE alert_rules;
