DROP TABLE post_thumbnails;
