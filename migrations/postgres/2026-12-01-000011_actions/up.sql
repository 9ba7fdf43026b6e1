-- Action plans: what procurement decided to do about a figure of a closed wave's results.
--
-- The target is a figure the results page shows: `target_kind` nps | csat | dimension |
-- pain_point | stage, `target_key` the dimension, option or stage key ('' for nps and csat),
-- for the whole wave (`group_attribute` NULL) or for one group the wave's release plan
-- shows. `description` is JSON: {language: text for respondents}. Status: planned |
-- in_progress | done | dropped. `published` is set by admins only.
CREATE TABLE actions (
    id TEXT PRIMARY KEY NOT NULL,
    wave_id TEXT NOT NULL REFERENCES waves (id),
    survey_slug TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_key TEXT NOT NULL,
    group_attribute TEXT,
    group_value TEXT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    due_on DATE NOT NULL,
    status TEXT NOT NULL,
    published BOOLEAN NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX actions_survey ON actions (survey_slug, due_on);

-- Dated progress notes.
CREATE TABLE action_notes (
    id TEXT PRIMARY KEY NOT NULL,
    action_id TEXT NOT NULL REFERENCES actions (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX action_notes_action ON action_notes (action_id, created_at);

-- Every change of an action, field by field, with who and when (creation is one row with
-- field 'created').
CREATE TABLE action_history (
    id TEXT PRIMARY KEY NOT NULL,
    action_id TEXT NOT NULL REFERENCES actions (id),
    changed_by TEXT NOT NULL REFERENCES users (id),
    changed_at TIMESTAMP NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX action_history_action ON action_history (action_id, changed_at);
