DROP INDEX captions_post;
DROP TABLE post_images;
