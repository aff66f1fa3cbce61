DROP INDEX captions_subscription_created;
DROP INDEX captions_post;
DROP TABLE post_images;
