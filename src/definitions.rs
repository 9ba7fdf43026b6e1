//! Survey definitions: load and validate `survey-definitions/*.json`; errors name the file
//! and the JSON path.
