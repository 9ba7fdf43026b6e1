DROP INDEX wave_comments_nps;
DROP INDEX wave_comments_order;
