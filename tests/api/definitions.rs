//! Survey definitions: the shipped files validate, every kind of mistake is reported with
//! file, JSON path and problem (all of them at once), the schema file is current, and
//! versions are pinned in the database: new → stored, same content → unchanged, changed
//! content without a version bump → refused, nothing half-stored. `pulse serve` pins at start.

use std::path::{Path, PathBuf};

use pulse::db::models::survey_versions;
use pulse::definitions;
use pulse::services::surveys::{self, PinError, PinOutcome};
use pulse::startup::Application;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{run_cli, spawn_app, test_settings, text, Backend, TestDb};

fn shipped_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("survey-definitions")
}

/// The shipped internal-customer survey as JSON: questions[0] is the NPS question,
/// [1..=7] the Likert questions, [8] the pain points, [9] a choice, [10] the comment.
fn internal_customer() -> Value {
    let text = std::fs::read_to_string(shipped_dir().join("internal-customer.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) {
    std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// The errors for one file, through the library.
fn errors_of(name: &str, value: &Value) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), name, value);
    let loaded = definitions::load(dir.path()).unwrap();
    assert!(loaded.definitions.is_empty(), "{name} was accepted");
    loaded.errors.iter().map(ToString::to_string).collect()
}

/// Changes the internal-customer survey with `change` and expects exactly `expected`.
fn assert_error(change: impl FnOnce(&mut Value), expected: &str) {
    let mut value = internal_customer();
    change(&mut value);
    assert_eq!(errors_of("internal-customer.json", &value), [expected]);
}

fn validate_cli(path: &Path) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    // No database is needed: the URL points at a file that is never created.
    let output = run_cli(
        "sqlite://never-created.db",
        dir.path(),
        &["survey", "validate", path.to_str().unwrap()],
        None,
    );
    assert!(!dir.path().join("never-created.db").exists());
    output
}

// ---------------------------------------------------------------------------------------
// The shipped definitions and the schema
// ---------------------------------------------------------------------------------------

#[test]
fn every_shipped_definition_validates() {
    let loaded = definitions::load(&shipped_dir()).unwrap();
    assert_eq!(
        loaded.errors,
        [],
        "{}",
        definitions::DefinitionErrors(loaded.errors.clone())
    );
    let slugs: Vec<&str> = loaded.definitions.iter().map(|d| d.slug()).collect();
    assert_eq!(
        slugs,
        [
            "internal-customer",
            "pulse-check",
            "supplier-customer-of-choice"
        ]
    );
    for definition in &loaded.definitions {
        assert_eq!(
            definition.warnings(),
            [],
            "{}: every listed language has every text",
            definition.file()
        );
        let raw: Value = serde_json::from_str(
            &std::fs::read_to_string(shipped_dir().join(definition.file())).unwrap(),
        )
        .unwrap();
        assert_eq!(raw["$schema"], "./schema.json", "{}", definition.file());
    }

    // The built-in copies are the same definitions.
    let built_in = definitions::load_built_in();
    assert!(built_in.is_ok());
    let hashes = |l: &definitions::Loaded| -> Vec<String> {
        l.definitions
            .iter()
            .map(|d| d.content_hash().to_string())
            .collect()
    };
    assert_eq!(hashes(&built_in), hashes(&loaded));

    let output = validate_cli(&shipped_dir());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("ok: internal-customer.json (internal-customer v2, 11 questions)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok: pulse-check.json (pulse-check v3, 3 questions)"),
        "{stdout}"
    );
    assert!(stdout.contains("ok: supplier-customer-of-choice.json"));
}

#[test]
fn the_internal_customer_survey_covers_the_seven_practices_in_two_languages() {
    let loaded = definitions::load(&shipped_dir().join("internal-customer.json")).unwrap();
    let definition = loaded.into_result().unwrap().remove(0);
    let survey = definition.definition();
    assert_eq!(
        survey.dimensions(),
        [
            "understanding_needs",
            "alignment",
            "communication",
            "responsiveness",
            "ease",
            "policy_clarity",
            "partnership"
        ]
    );
    assert_eq!(survey.languages(), ["en", "de"]);
    assert_eq!(survey.segments, ["business_unit", "department", "region"]);
    let german = survey.texts(Some("de-AT"));
    assert_eq!(german.language(), "de");
    assert_eq!(
        german.get(survey.question("recommend").unwrap().text()),
        "Wie wahrscheinlich ist es, dass Sie die Zusammenarbeit mit dem Einkauf einer Kollegin oder einem Kollegen empfehlen?"
    );
    assert_eq!(
        survey.texts(Some("fr")).get(&survey.title),
        "How is Procurement doing for you?"
    );
}

#[test]
fn schema_json_is_up_to_date() {
    let path = shipped_dir().join("schema.json");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == definitions::schema_json(),
        "survey-definitions/schema.json is out of date with the Rust types; regenerate it with\n\n    cargo run -- survey schema > survey-definitions/schema.json\n"
    );
    let output = run_cli(
        "sqlite://unused.db",
        tempfile::tempdir().unwrap().path(),
        &["survey", "schema"],
        None,
    );
    assert!(output.status.success());
    assert_eq!(text(&output.stdout), on_disk);
}

// ---------------------------------------------------------------------------------------
// One test per kind of mistake: file, JSON path and problem
// ---------------------------------------------------------------------------------------

#[test]
fn json_syntax_errors_give_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pulse-check.json"),
        "{\n  \"slug\": \"pulse-check\",\n  \"version\": 1,,\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.json"), "").unwrap();
    let loaded = definitions::load(dir.path()).unwrap();
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "empty.json: line 1, column 0: the file ends too early (EOF while parsing a value): is it empty or cut off?",
            "pulse-check.json: line 3, column 16: this is not valid JSON: key must be a string",
        ]
    );
}

#[test]
fn unknown_fields_are_errors_with_a_suggestion() {
    assert_error(
        |v| {
            let scale = v["questions"][3].as_object_mut().unwrap().remove("scale").unwrap();
            v["questions"][3]["scael"] = scale;
        },
        "internal-customer.json: questions[3].scael: unknown field (did you mean 'scale'?); allowed here: key, text, help, required, scale, dimension, anchors, allow_not_applicable, pair, customer_of_choice",
    );
    assert_error(
        |v| v["colour"] = json!("blue"),
        "internal-customer.json: colour: unknown field; allowed here: $schema, slug, version, title, intro, languages, segments, estimated_minutes, audience, importance, questions",
    );
}

#[test]
fn missing_fields_are_named() {
    assert_error(
        |v| {
            v["questions"][3]
                .as_object_mut()
                .unwrap()
                .remove("dimension");
        },
        "internal-customer.json: questions[3].dimension: is missing (it is required)",
    );
    assert_error(
        |v| {
            v.as_object_mut().unwrap().remove("intro");
        },
        "internal-customer.json: intro: is missing (it is required)",
    );
}

#[test]
fn wrong_types_are_explained() {
    assert_error(
        |v| v["version"] = json!("1"),
        "internal-customer.json: version: invalid type: string \"1\", expected a whole number",
    );
    assert_error(
        |v| v["questions"][2]["text"] = json!(42),
        "internal-customer.json: questions[2].text: expected a text, or an object of texts keyed by language code such as {\"en\": \"…\", \"de\": \"…\"}",
    );
    assert_error(
        |v| v["questions"][1]["anchors"] = json!("agree"),
        "internal-customer.json: questions[1].anchors: expected a list with one label per point (lowest first), or {\"low\": …, \"high\": …}",
    );
}

#[test]
fn unknown_or_missing_kind() {
    assert_error(
        |v| v["questions"][9]["kind"] = json!("choise"),
        "internal-customer.json: questions[9].kind: 'choise' is not a kind of question (did you mean 'choice'?); use one of nps, likert, pain_points, choice, text",
    );
    assert_error(
        |v| {
            v["questions"][9].as_object_mut().unwrap().remove("kind");
        },
        "internal-customer.json: questions[9].kind: is missing: say which kind of question this is (nps, likert, pain_points, choice or text)",
    );
}

#[test]
fn unknown_stage() {
    assert_error(
        |v| v["questions"][8]["options"][7]["stage"] = json!("payment"),
        "internal-customer.json: questions[8].options[7].stage: unknown value 'payment'; use one of intake, approval, sourcing, contracting, ordering, delivery, invoicing_payment, supplier_management, policy, communication",
    );
}

#[test]
fn slug_must_be_well_formed_and_match_the_file_name() {
    assert_error(
        |v| v["slug"] = json!("internal-customers"),
        "internal-customer.json: slug: 'internal-customers' does not match the file name: a definition with slug 'internal-customers' must be in internal-customers.json (rename the file or change the slug)",
    );
    let mut value = internal_customer();
    value["slug"] = json!("Internal_Customer");
    assert_eq!(
        errors_of("Internal_Customer.json", &value),
        ["Internal_Customer.json: slug: 'Internal_Customer' is not a valid slug: use 2–63 lower-case letters, digits and -, starting with a letter (e.g. internal-customer)"]
    );
}

#[test]
fn version_must_be_at_least_one() {
    assert_error(
        |v| v["version"] = json!(0),
        "internal-customer.json: version: must be 1 or more (found 0)",
    );
}

#[test]
fn question_keys_must_be_well_formed_and_unique() {
    assert_error(
        |v| v["questions"][10]["key"] = json!("recommend"),
        "internal-customer.json: questions[10].key: 'recommend' is already the key of questions[0]: every question needs its own key",
    );
    assert_error(
        |v| v["questions"][10]["key"] = json!("Final-Comment"),
        "internal-customer.json: questions[10].key: 'Final-Comment' is not a valid key: use lower-case letters, digits and _, starting with a letter, at most 63 characters (e.g. policy_clarity)",
    );
}

#[test]
fn likert_scale_must_be_5_or_7() {
    assert_error(
        |v| v["questions"][3]["scale"] = json!(4),
        "internal-customer.json: questions[3].scale: must be 5 or 7",
    );
}

#[test]
fn likert_anchor_labels_must_match_the_scale() {
    assert_error(
        |v| v["questions"][3]["scale"] = json!(7),
        "internal-customer.json: questions[3].anchors: has 5 labels for a 7-point scale: give one label per point, or {\"low\": …, \"high\": …}",
    );
    // End labels fit any scale.
    let mut value = internal_customer();
    value["questions"][3]["scale"] = json!(7);
    value["questions"][3]["anchors"] = json!({
        "low": {"en": "Strongly disagree", "de": "Stimme gar nicht zu"},
        "high": {"en": "Strongly agree", "de": "Stimme voll zu"}
    });
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "internal-customer.json", &value);
    assert!(definitions::load(dir.path()).unwrap().is_ok());
}

#[test]
fn likert_dimension_must_be_an_identifier() {
    assert_error(
        |v| v["questions"][5]["dimension"] = json!("Ease of use"),
        "internal-customer.json: questions[5].dimension: 'Ease of use' is not a valid dimension: use lower-case letters, digits and _, starting with a letter, at most 63 characters (e.g. policy_clarity)",
    );
}

#[test]
fn max_choices_must_fit_the_options() {
    assert_error(
        |v| v["questions"][8]["max_choices"] = json!(13),
        "internal-customer.json: questions[8].max_choices: is 13 but there are only 12 options (leave it out to allow any number)",
    );
    assert_error(
        |v| v["questions"][8]["max_choices"] = json!(0),
        "internal-customer.json: questions[8].max_choices: must be at least 1 (leave it out to allow any number)",
    );
}

#[test]
fn options_must_exist_and_have_unique_keys() {
    assert_error(
        |v| v["questions"][8]["options"] = json!([]),
        "internal-customer.json: questions[8].options: has no options: list the pain points to choose from",
    );
    assert_error(
        |v| {
            let first = v["questions"][9]["options"][0].clone();
            v["questions"][9]["options"] = json!([first]);
        },
        "internal-customer.json: questions[9].options: has only one option: a choice needs at least two",
    );
    assert_error(
        |v| v["questions"][9]["options"][3]["key"] = json!("weekly"),
        "internal-customer.json: questions[9].options[3].key: 'weekly' is already the key of options[0]: every option needs its own key",
    );
    assert_error(
        |v| v["questions"][8]["options"][1]["key"] = json!("approval delays"),
        "internal-customer.json: questions[8].options[1].key: 'approval delays' is not a valid key: use lower-case letters, digits and _, starting with a letter, at most 63 characters (e.g. policy_clarity)",
    );
}

#[test]
fn text_max_length_is_1_to_5000() {
    assert_error(
        |v| v["questions"][10]["max_length"] = json!(6000),
        "internal-customer.json: questions[10].max_length: must be between 1 and 5000 (found 6000)",
    );
    assert_error(
        |v| v["questions"][10]["max_length"] = json!(0),
        "internal-customer.json: questions[10].max_length: must be between 1 and 5000 (found 0)",
    );
}

#[test]
fn texts_only_in_listed_languages() {
    assert_error(
        |v| v["questions"][4]["text"]["fr"] = json!("Quand je demande…"),
        "internal-customer.json: questions[4].text.fr: 'fr' is not one of the survey's \"languages\" (the survey lists en, de)",
    );
    // A survey without "languages" is English only.
    let mut value: Value = serde_json::from_str(
        &std::fs::read_to_string(shipped_dir().join("pulse-check.json")).unwrap(),
    )
    .unwrap();
    english_only(&mut value);
    value["title"] = json!({"en": "Pulse check", "de": "Pulscheck"});
    assert_eq!(
        errors_of("pulse-check.json", &value),
        ["pulse-check.json: title.de: 'de' is not one of the survey's \"languages\" (add \"languages\": [\"en\", \"de\"] to the survey)"]
    );
}

#[test]
fn every_text_needs_the_default_language() {
    assert_error(
        |v| {
            v["questions"][8]["options"][0]["label"]
                .as_object_mut()
                .unwrap()
                .remove("en");
        },
        "internal-customer.json: questions[8].options[0].label: has no text in the default language 'en' (the first of \"languages\")",
    );
}

#[test]
fn texts_must_not_be_empty() {
    assert_error(
        |v| v["questions"][0]["anchors"]["low"]["de"] = json!("  "),
        "internal-customer.json: questions[0].anchors.low.de: is empty",
    );
    assert_error(
        |v| v["intro"] = json!({}),
        "internal-customer.json: intro: has no text: give at least {\"en\": \"…\"}",
    );
}

#[test]
fn languages_must_be_codes_listed_once() {
    assert_error(
        |v| v["languages"] = json!(["en", "de", "de"]),
        "internal-customer.json: languages[2]: 'de' is listed twice",
    );
    assert_error(
        |v| v["languages"] = json!(["en", "de", "Deutsch"]),
        "internal-customer.json: languages[2]: 'Deutsch' is not a language code: use e.g. en, de or pt-BR",
    );
}

#[test]
fn segments_must_be_attribute_names_listed_once() {
    assert_error(
        |v| v["segments"] = json!(["business_unit", "", "region"]),
        "internal-customer.json: segments[1]: is empty: name a stakeholder attribute such as business_unit",
    );
    assert_error(
        |v| v["segments"] = json!(["business_unit", "region", "region"]),
        "internal-customer.json: segments[2]: 'region' is listed twice",
    );
    assert_error(
        |v| v["segments"] = json!(["Business Unit"]),
        "internal-customer.json: segments[0]: 'Business Unit' is not a stakeholder attribute name: use lower-case letters, digits and _, starting with a letter, at most 63 characters (e.g. policy_clarity)",
    );
}

#[test]
fn a_survey_needs_questions_and_a_plausible_duration() {
    assert_error(
        |v| v["questions"] = json!([]),
        "internal-customer.json: questions: a survey needs at least one question",
    );
    assert_error(
        |v| v["estimated_minutes"] = json!(90),
        "internal-customer.json: estimated_minutes: must be between 1 and 60 (found 90)",
    );
}

#[test]
fn many_errors_in_many_files_are_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut broken = internal_customer();
    broken["segments"] = json!(["region", "region"]);
    broken["questions"][1]["scal"] = json!(5); // a serde error in one question…
    broken["questions"][3]["scale"] = json!(6); // …does not hide semantic errors in others
    broken["questions"][8]["options"][2]["stage"] = json!("payment");
    broken["questions"][9]["kind"] = json!("choise");
    broken["questions"][10]["key"] = json!("recommend");
    write(dir.path(), "internal-customer.json", &broken);
    let mut pulse: Value = serde_json::from_str(
        &std::fs::read_to_string(shipped_dir().join("pulse-check.json")).unwrap(),
    )
    .unwrap();
    pulse["version"] = json!(0);
    pulse["questions"][1]["scale"] = json!(3);
    write(dir.path(), "pulse-check.json", &pulse);
    std::fs::copy(
        shipped_dir().join("supplier-customer-of-choice.json"),
        dir.path().join("supplier-customer-of-choice.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a definition").unwrap();

    let expected = [
        "internal-customer.json: segments[1]: 'region' is listed twice",
        "internal-customer.json: questions[1].scal: unknown field (did you mean 'scale'?); allowed here: key, text, help, required, scale, dimension, anchors, allow_not_applicable, pair, customer_of_choice",
        "internal-customer.json: questions[3].scale: must be 5 or 7",
        "internal-customer.json: questions[8].options[2].stage: unknown value 'payment'; use one of intake, approval, sourcing, contracting, ordering, delivery, invoicing_payment, supplier_management, policy, communication",
        "internal-customer.json: questions[9].kind: 'choise' is not a kind of question (did you mean 'choice'?); use one of nps, likert, pain_points, choice, text",
        "internal-customer.json: questions[10].key: 'recommend' is already the key of questions[0]: every question needs its own key",
        "pulse-check.json: version: must be 1 or more (found 0)",
        "pulse-check.json: questions[1].scale: must be 5 or 7",
    ];
    let loaded = definitions::load(dir.path()).unwrap();
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors, expected);
    assert_eq!(loaded.definitions.len(), 1, "the good file still parses");

    let output = validate_cli(dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    for line in expected {
        assert!(stderr.contains(line), "missing {line:?} in\n{stderr}");
    }
    assert!(stderr.contains("8 errors in 2 of 3 files"), "{stderr}");
    assert!(text(&output.stdout).contains("ok: supplier-customer-of-choice.json"));
}

#[test]
fn validating_a_single_file_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut value = internal_customer();
    value["questions"][3]["scale"] = json!(4);
    write(dir.path(), "internal-customer.json", &value);
    let output = validate_cli(&dir.path().join("internal-customer.json"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("internal-customer.json: questions[3].scale: must be 5 or 7")
    );

    let empty = tempfile::tempdir().unwrap();
    let output = validate_cli(empty.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("no survey definitions (*.json)"));

    let output = validate_cli(&dir.path().join("missing.json"));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("cannot read"));
}

#[test]
fn missing_translations_are_warnings_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut value = internal_customer();
    value["questions"][4]["text"]
        .as_object_mut()
        .unwrap()
        .remove("de");
    write(dir.path(), "internal-customer.json", &value);
    let output = validate_cli(dir.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("warning: internal-customer.json: questions[4].text: has no 'de' text; respondents in that language see the 'en' text"),
        "{}",
        text(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// Pinning in the database
// ---------------------------------------------------------------------------------------

/// The shipped pulse-check survey as a fresh version 1 (the tests number its versions).
fn pulse_check() -> Value {
    let mut value: Value = serde_json::from_str(
        &std::fs::read_to_string(shipped_dir().join("pulse-check.json")).unwrap(),
    )
    .unwrap();
    value["version"] = json!(1);
    value
}

/// `value` in English only: no "languages", every `{"en": …, "de": …}` text its English.
fn english_only(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("languages");
            for child in map.values_mut() {
                if let Some(english) = child
                    .as_object()
                    .filter(|o| o.contains_key("en") && o.keys().all(|k| k.len() == 2))
                    .and_then(|o| o.get("en").cloned())
                {
                    *child = english;
                } else {
                    english_only(child);
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Some(english) = item
                    .as_object()
                    .filter(|o| o.contains_key("en") && o.keys().all(|k| k.len() == 2))
                    .and_then(|o| o.get("en").cloned())
                {
                    *item = english;
                } else {
                    english_only(item);
                }
            }
        }
        _ => {}
    }
}

fn load_cli(db: &TestDb, dir: &Path) -> std::process::Output {
    run_cli(
        &db.raw_url,
        db.dir.path(),
        &["survey", "load", dir.to_str().unwrap()],
        None,
    )
}

fn pinned(db: &TestDb) -> Vec<(String, i32, String)> {
    let pool = pulse::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    survey_versions::list(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| (row.slug, row.version, row.content_hash))
        .collect()
}

async fn changing_a_definition_requires_a_version_bump(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let mut definition = pulse_check();
    write(dir.path(), "pulse-check.json", &definition);

    // v1 is new.
    let output = load_cli(&db, dir.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("new: pulse-check v1"));
    let v1 = pinned(&db);
    assert_eq!(v1.len(), 1);

    // Changed without a bump: refused, and a new survey in the same batch is not stored
    // either (all or nothing).
    definition["questions"][2]["text"] = json!("What should we fix first?");
    write(dir.path(), "pulse-check.json", &definition);
    let mut other = pulse_check();
    other["slug"] = json!("pulse-check-emea");
    write(dir.path(), "pulse-check-emea.json", &other);
    let output = load_cli(&db, dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("pulse-check.json: version 1 of 'pulse-check' was loaded before with different content; answers already collected depend on it. Bump \"version\" to 2 to publish this change."),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was loaded"), "{stderr}");
    assert_eq!(pinned(&db), v1, "nothing is half-stored");

    // `survey list` tells the same story without changing anything.
    let list = run_cli(
        &db.raw_url,
        db.dir.path(),
        &[
            "--definitions-dir",
            dir.path().to_str().unwrap(),
            "survey",
            "list",
        ],
        None,
    );
    assert!(list.status.success(), "{}", text(&list.stderr));
    let stdout = text(&list.stdout);
    assert!(stdout.contains("pulse-check"), "{stdout}");
    assert!(stdout.contains("Bump \"version\" to 2"), "{stdout}");
    assert!(
        stdout.contains("not loaded yet: pulse-check-emea.json (pulse-check-emea v1)"),
        "{stdout}"
    );

    // Bumped: accepted; both versions stay pinned with their own content.
    definition["version"] = json!(2);
    write(dir.path(), "pulse-check.json", &definition);
    let output = load_cli(&db, dir.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("new: pulse-check v2"), "{stdout}");
    assert!(stdout.contains("new: pulse-check-emea v1"), "{stdout}");
    let all = pinned(&db);
    let versions: Vec<(&str, i32)> = all.iter().map(|(s, v, _)| (s.as_str(), *v)).collect();
    assert_eq!(
        versions,
        [
            ("pulse-check", 1),
            ("pulse-check", 2),
            ("pulse-check-emea", 1)
        ]
    );
    assert_eq!(all[0], v1[0], "v1 is untouched");
    assert_ne!(all[0].2, all[1].2);

    // Going back to a lower, never-loaded version is refused too.
    definition["version"] = json!(1);
    definition["questions"][2]["text"] = json!("Something else again?");
    write(dir.path(), "pulse-check.json", &definition);
    let output = load_cli(&db, dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("Bump \"version\" to 3 to publish this change."),
        "{}",
        text(&output.stderr)
    );
}

async fn reformatting_a_definition_is_not_a_change(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let definition = internal_customer();
    write(dir.path(), "internal-customer.json", &definition);
    assert!(load_cli(&db, dir.path()).status.success());
    let before = pinned(&db);

    // Compact, keys in another order, a default spelled out, no "$schema": same content.
    let mut reordered = definition.clone();
    reordered.as_object_mut().unwrap().remove("$schema");
    reordered["questions"][0]["required"] = json!(true);
    let mut object: Vec<(String, Value)> =
        reordered.as_object().unwrap().clone().into_iter().collect();
    object.reverse();
    let mut compact = String::from("{");
    for (i, (key, value)) in object.iter().enumerate() {
        if i > 0 {
            compact.push(',');
        }
        compact.push_str(&format!("{}:{}", json!(key), value));
    }
    compact.push('}');
    std::fs::write(dir.path().join("internal-customer.json"), compact).unwrap();

    let output = load_cli(&db, dir.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("unchanged: internal-customer v2"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(pinned(&db), before);
}

async fn pinning_through_the_library_is_all_or_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let pool = pulse::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    pulse::db::run_migrations(&mut conn).unwrap();
    let now = chrono::Utc::now().naive_utc();

    let shipped = definitions::load(&shipped_dir())
        .unwrap()
        .into_result()
        .unwrap();
    let report = surveys::pin_definitions(&mut conn, &shipped, now).unwrap();
    assert_eq!(report.count(PinOutcome::New), 3);
    let again = surveys::pin_definitions(&mut conn, &shipped, now).unwrap();
    assert_eq!(again.count(PinOutcome::Unchanged), 3);

    // Two changed files without bumps: both named, nothing stored.
    let dir = tempfile::tempdir().unwrap();
    let mut changed = pulse_check();
    changed["intro"] = json!("Changed.");
    write(dir.path(), "pulse-check.json", &changed);
    let mut supplier: Value = serde_json::from_str(
        &std::fs::read_to_string(shipped_dir().join("supplier-customer-of-choice.json")).unwrap(),
    )
    .unwrap();
    supplier["title"] = json!("Changed");
    write(dir.path(), "supplier-customer-of-choice.json", &supplier);
    let mut new_survey = pulse_check();
    new_survey["slug"] = json!("brand-new");
    write(dir.path(), "brand-new.json", &new_survey);
    let batch = definitions::load(dir.path())
        .unwrap()
        .into_result()
        .unwrap();
    let Err(PinError::Refused(refusals)) = surveys::pin_definitions(&mut conn, &batch, now) else {
        panic!("changed definitions were pinned")
    };
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(refusals[0].starts_with("pulse-check.json: version 1 of 'pulse-check'"));
    assert!(refusals[1].starts_with("supplier-customer-of-choice.json: version 3 of"));
    assert_eq!(survey_versions::count(&mut conn).unwrap(), 3);
    assert!(
        survey_versions::find_by_slug_version(&mut conn, "brand-new", 1)
            .unwrap()
            .is_none()
    );

    // What is pinned reads back as the same definitions.
    let latest = surveys::latest_pinned(&mut conn).unwrap();
    assert_eq!(latest.len(), 3);
    for (pinned, loaded) in latest.iter().zip(&shipped) {
        assert_eq!(pinned.slug, loaded.slug());
        assert_eq!(&pinned.definition, loaded.definition());
        assert_eq!(pinned.content_hash, loaded.content_hash());
        assert_eq!(
            pinned.content_hash,
            definitions::content_hash(loaded.canonical_json())
        );
    }
    let internal = surveys::find_pinned(&mut conn, "internal-customer", 2)
        .unwrap()
        .unwrap();
    assert_eq!(internal.title, "How is Procurement doing for you?");
}

async fn a_new_version_below_the_latest_is_refused(backend: Backend) {
    let db = TestDb::new(backend);
    let pool = pulse::db::connect(&db.url).unwrap();
    let mut conn = pool.get().unwrap();
    pulse::db::run_migrations(&mut conn).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let dir = tempfile::tempdir().unwrap();
    let mut definition = pulse_check();
    definition["version"] = json!(3);
    write(dir.path(), "pulse-check.json", &definition);
    let v3 = definitions::load(dir.path())
        .unwrap()
        .into_result()
        .unwrap();
    surveys::pin_definitions(&mut conn, &v3, now).unwrap();

    definition["version"] = json!(2);
    definition["intro"] = json!("An older draft.");
    write(dir.path(), "pulse-check.json", &definition);
    let v2 = definitions::load(dir.path())
        .unwrap()
        .into_result()
        .unwrap();
    let Err(PinError::Refused(refusals)) = surveys::pin_definitions(&mut conn, &v2, now) else {
        panic!("an older version was pinned after a newer one")
    };
    assert_eq!(
        refusals,
        ["pulse-check.json: version 2 of 'pulse-check' is older than version 3, which is already loaded. Set \"version\" to 4 to publish this content."]
    );
}

async fn instances_starting_together_pin_each_version_once(backend: Backend) {
    let db = TestDb::new(backend);
    let pool = pulse::db::connect(&db.url).unwrap();
    pulse::db::run_migrations(&mut pool.get().unwrap()).unwrap();
    let shipped = definitions::load(&shipped_dir())
        .unwrap()
        .into_result()
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            let shipped = shipped.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                surveys::pin_definitions(&mut conn, &shipped, chrono::Utc::now().naive_utc())
                    .map(|report| report.count(PinOutcome::New))
            })
        })
        .collect();
    let mut new = 0;
    for thread in threads {
        new += thread.join().unwrap().expect("every instance starts");
    }
    assert_eq!(new, 3, "each version was stored by exactly one instance");
    assert_eq!(survey_versions::count(&mut pool.get().unwrap()).unwrap(), 3);
}

async fn serve_pins_the_definitions_at_start(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut conn = app.pool.get().unwrap();
    let slugs: Vec<(String, i32)> = survey_versions::latest_per_slug(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| (row.slug, row.version))
        .collect();
    assert_eq!(
        slugs,
        [
            ("internal-customer".to_string(), 2),
            ("pulse-check".to_string(), 3),
            ("supplier-customer-of-choice".to_string(), 3)
        ]
    );

    // `survey list` shows them, and that every file is loaded.
    let output = app.cli(&["survey", "list"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("internal-customer"), "{stdout}");
    assert!(stdout.contains("all 3 definitions are loaded"), "{stdout}");
}

async fn serve_refuses_to_start_with_broken_definitions(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let mut broken = internal_customer();
    broken["questions"][3]["scale"] = json!(6);
    broken["questions"][8]["max_choices"] = json!(0);
    write(dir.path(), "internal-customer.json", &broken);
    let mut settings = test_settings(&db);
    settings.definitions_dir = dir.path().to_path_buf();

    let Err(error) = Application::build(settings).await else {
        panic!("started with a broken definition")
    };
    let message = format!("{error:#}");
    assert!(
        message.contains("internal-customer.json: questions[3].scale: must be 5 or 7"),
        "{message}"
    );
    assert!(
        message.contains("internal-customer.json: questions[8].max_choices: must be at least 1"),
        "{message}"
    );
    assert!(message.contains("pulse survey validate"), "{message}");
    assert!(pinned(&db).is_empty());
}

async fn serve_refuses_to_start_when_a_pinned_version_changed(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let mut definition = pulse_check();
    write(dir.path(), "pulse-check.json", &definition);
    assert!(load_cli(&db, dir.path()).status.success());

    definition["title"] = json!("A new title");
    write(dir.path(), "pulse-check.json", &definition);
    let mut settings = test_settings(&db);
    settings.definitions_dir = dir.path().to_path_buf();
    let Err(error) = Application::build(settings).await else {
        panic!("started with a changed definition")
    };
    let message = format!("{error:#}");
    assert!(
        message.contains(
            "pulse-check.json: version 1 of 'pulse-check' was loaded before with different content"
        ),
        "{message}"
    );
}

async fn serve_uses_the_built_in_definitions_without_a_folder(backend: Backend) {
    let db = TestDb::new(backend);
    let mut settings = test_settings(&db);
    settings.definitions_dir = db.dir.path().join("no-such-folder");
    let app = Application::build(settings).await.expect("starts");
    let mut conn = app.pool().get().unwrap();
    assert_eq!(survey_versions::count(&mut conn).unwrap(), 3);
}

both_backends!(
    changing_a_definition_requires_a_version_bump,
    reformatting_a_definition_is_not_a_change,
    pinning_through_the_library_is_all_or_nothing,
    a_new_version_below_the_latest_is_refused,
    instances_starting_together_pin_each_version_once,
    serve_pins_the_definitions_at_start,
    serve_refuses_to_start_with_broken_definitions,
    serve_refuses_to_start_when_a_pinned_version_changed,
    serve_uses_the_built_in_definitions_without_a_folder,
);
