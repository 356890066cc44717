DROP TABLE publication_events;
DROP TABLE publication_media;
DROP TABLE publications;
