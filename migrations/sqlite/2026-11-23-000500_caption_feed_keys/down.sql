DROP TABLE caption_feed_keys;
