DROP TABLE meta_requests;
