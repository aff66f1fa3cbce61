-- Each post's angles (src/feeds/angles.rs), worked out when it is read: a JSON object of
-- key_sentence, quote, question and number. NULL for posts stored before: their angles
-- are worked out from the stored text when they are captioned.
ALTER TABLE posts ADD COLUMN angles TEXT;
