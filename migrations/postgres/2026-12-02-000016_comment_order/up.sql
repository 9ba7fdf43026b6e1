-- A closed wave's comments are read a page at a time in the order of their random ids, and
-- counted per NPS answer for the category links: both from an index, not a sort of all.
CREATE INDEX wave_comments_order ON wave_comments (wave_id, id);
CREATE INDEX wave_comments_nps ON wave_comments (wave_id, nps_answer, id);
