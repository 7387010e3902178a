-- A period's conversations (the support summary's cohort, of one bot or of
-- every bot) are read by creation time; without these indexes that read
-- walks every conversation of the bot, or every one.

CREATE INDEX conversations_bot_created ON conversations (bot_id, created_at);
CREATE INDEX conversations_created ON conversations (created_at);
