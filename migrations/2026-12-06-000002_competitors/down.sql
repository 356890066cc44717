DROP TABLE competitor_posts;
DROP TABLE competitor_days;
DROP TABLE competitors;
