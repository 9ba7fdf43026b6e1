DROP TABLE action_history;
DROP TABLE action_notes;
DROP TABLE actions;
