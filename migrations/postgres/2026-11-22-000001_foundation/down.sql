DROP TABLE survey_versions;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE stakeholders;
