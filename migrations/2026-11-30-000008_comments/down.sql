DROP TABLE webhook_events;
DROP TABLE comments;
