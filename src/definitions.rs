//! Survey definitions: read `survey-definitions/*.json` (or the copies built into the
//! binary when that folder does not exist, so `pulse` runs from any directory), parse them
//! with the JSON path of every serde error, run the semantic checks of
//! [`SurveyDefinition::problems`], and compute the content hash a version is pinned to.
//!
//! Every error names the file, the place in it and the problem, e.g.
//! `internal-customer.json: questions[3].scale: must be 5 or 7`. All problems of all files
//! are collected; nothing stops at the first file. Within a file, serde stops at its first
//! error, so a broken file is parsed a second time piece by piece (the top level, then each
//! question on its own): that reports one structural error per question, and the semantic
//! checks still run on the questions that did parse. JSON syntax errors have no path; they
//! give the line and column instead.
//!
//! The content hash is the SHA-256 of the canonical JSON (keys sorted, no whitespace) of the
//! *parsed* definition: reformatting a file, reordering its keys or spelling out a default
//! does not change it; changing what respondents see or how answers are read does.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rust_embed::RustEmbed;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::definition::{
    ChoiceQuestion, JsonPath, LikertQuestion, LocalizedText, NpsQuestion, PainPointsQuestion,
    PathSegment, Problem, Question, SurveyDefinition, TextQuestion,
};

/// The generated JSON schema's file name; it sits beside the definitions and is not one.
pub const SCHEMA_FILE: &str = "schema.json";

/// The definitions shipped with the product, used when the definitions folder is missing.
#[derive(RustEmbed)]
#[folder = "survey-definitions/"]
#[include = "*.json"]
#[exclude = "schema.json"]
// The scorecard definition and its schema (`scorecards::definition`).
#[exclude = "kpis/*"]
struct Shipped;

/// Where definitions were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Directory(PathBuf),
    File(PathBuf),
    /// The copies built into the binary.
    BuiltIn,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Directory(path) | Source::File(path) => write!(f, "{}", path.display()),
            Source::BuiltIn => f.write_str("built-in definitions"),
        }
    }
}

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (cannot be read).
    File,
    /// A JSON syntax error.
    Line { line: usize, column: usize },
    /// A place in the JSON document.
    Path(JsonPath),
}

/// One problem with one definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The file name, e.g. `internal-customer.json`.
    pub file: String,
    pub location: Location,
    pub message: String,
}

impl DefinitionError {
    fn at(file: &str, problem: Problem) -> Self {
        Self {
            file: file.to_string(),
            location: Location::Path(problem.path),
            message: problem.message,
        }
    }
}

/// `file: path: problem`.
impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.message),
            Location::Line { line, column } => {
                write!(
                    f,
                    "{}: line {line}, column {column}: {}",
                    self.file, self.message
                )
            }
            Location::Path(path) => write!(f, "{}: {path}: {}", self.file, self.message),
        }
    }
}

/// Every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionErrors(pub Vec<DefinitionError>);

impl fmt::Display for DefinitionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DefinitionErrors {}

/// A definition that parsed and passed every check, with its content hash. Only this
/// module makes them, so holding one means the definition is valid.
#[derive(Debug, Clone)]
pub struct LoadedDefinition {
    file: String,
    definition: SurveyDefinition,
    canonical_json: String,
    content_hash: String,
    warnings: Vec<Problem>,
}

impl LoadedDefinition {
    /// The file name it came from, e.g. `internal-customer.json`.
    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn definition(&self) -> &SurveyDefinition {
        &self.definition
    }

    pub fn slug(&self) -> &str {
        &self.definition.slug
    }

    pub fn version(&self) -> i32 {
        self.definition.version
    }

    /// The canonical JSON the hash is taken over (what the database stores).
    pub fn canonical_json(&self) -> &str {
        &self.canonical_json
    }

    /// SHA-256 of [`Self::canonical_json`], lower-case hex.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// Texts missing in one of the listed languages: worth fixing, not an error.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }
}

/// The outcome of reading a file or folder: the good definitions and every problem.
#[derive(Debug)]
pub struct Loaded {
    pub source: Source,
    pub definitions: Vec<LoadedDefinition>,
    pub errors: Vec<DefinitionError>,
}

impl Loaded {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The definitions, or every error (then none of the definitions may be used).
    pub fn into_result(self) -> Result<Vec<LoadedDefinition>, DefinitionErrors> {
        if self.errors.is_empty() {
            Ok(self.definitions)
        } else {
            Err(DefinitionErrors(self.errors))
        }
    }

    /// The number of files that were read, good or bad.
    pub fn file_count(&self) -> usize {
        let mut files: Vec<&str> = self.definitions.iter().map(|d| d.file()).collect();
        files.extend(self.errors.iter().map(|e| e.file.as_str()));
        files.sort_unstable();
        files.dedup();
        files.len()
    }

    /// Checks the pairs across the good definitions (both sides on the same scale): a
    /// conflict is an error of the file of the suppliers' side.
    fn check_pairs(&mut self) {
        let definitions: Vec<(&str, &SurveyDefinition)> = self
            .definitions
            .iter()
            .map(|d| (d.file(), d.definition()))
            .collect();
        let conflicts = crate::domain::definition::pair_conflicts(&definitions);
        self.errors.extend(
            conflicts
                .into_iter()
                .map(|(file, problem)| DefinitionError::at(&file, problem)),
        );
    }

    fn push(&mut self, file: &str, result: Result<LoadedDefinition, Vec<DefinitionError>>) {
        match result {
            Ok(definition) => self.definitions.push(definition),
            Err(errors) => {
                debug_assert!(!errors.is_empty(), "{file}: refused without a reason");
                self.errors.extend(errors);
            }
        }
    }
}

/// Reads a definition file, or every `*.json` file of a folder (except `schema.json`).
pub fn load(path: &Path) -> anyhow::Result<Loaded> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.is_dir() {
        return load_dir(path);
    }
    let file = file_name(path);
    let mut loaded = Loaded {
        source: Source::File(path.to_path_buf()),
        definitions: Vec::new(),
        errors: Vec::new(),
    };
    loaded.push(&file, read_and_parse(path, &file));
    Ok(loaded)
}

/// The configured definitions folder, or the built-in definitions when it does not exist.
pub fn load_configured(dir: &Path) -> anyhow::Result<Loaded> {
    if dir.exists() {
        load(dir)
    } else {
        Ok(load_built_in())
    }
}

/// The definitions built into the binary.
pub fn load_built_in() -> Loaded {
    let mut loaded = Loaded {
        source: Source::BuiltIn,
        definitions: Vec::new(),
        errors: Vec::new(),
    };
    let mut names: Vec<String> = Shipped::iter().map(|name| name.into_owned()).collect();
    names.sort();
    for name in names {
        let result = match Shipped::get(&name) {
            Some(file) => match std::str::from_utf8(&file.data) {
                Ok(text) => parse(&name, text),
                Err(e) => Err(vec![file_error(&name, format!("is not UTF-8 text: {e}"))]),
            },
            None => Err(vec![file_error(&name, "is missing from the binary")]),
        };
        loaded.push(&name, result);
    }
    loaded.check_pairs();
    loaded
}

fn load_dir(dir: &Path) -> anyhow::Result<Loaded> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?
    {
        let path = entry
            .with_context(|| format!("cannot read the folder {}", dir.display()))?
            .path();
        let name = file_name(&path);
        if path.is_file()
            && name.ends_with(".json")
            && name != SCHEMA_FILE
            && !name.starts_with('.')
        {
            paths.push(path);
        }
    }
    paths.sort();
    let mut loaded = Loaded {
        source: Source::Directory(dir.to_path_buf()),
        definitions: Vec::new(),
        errors: Vec::new(),
    };
    for path in paths {
        let file = file_name(&path);
        loaded.push(&file, read_and_parse(&path, &file));
    }
    loaded.check_pairs();
    Ok(loaded)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn file_error(file: &str, message: impl Into<String>) -> DefinitionError {
    DefinitionError {
        file: file.to_string(),
        location: Location::File,
        message: message.into(),
    }
}

fn read_and_parse(path: &Path, file: &str) -> Result<LoadedDefinition, Vec<DefinitionError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![file_error(file, format!("cannot read the file: {e}"))])?;
    parse(file, &text)
}

/// Parses and checks the text of one definition file. `file` is its name (the slug must
/// equal the name without `.json`).
pub fn parse(file: &str, text: &str) -> Result<LoadedDefinition, Vec<DefinitionError>> {
    let value: Value = serde_json::from_str(text).map_err(|e| vec![syntax_error(file, &e)])?;
    let Attempt {
        definition,
        unparsed,
        mut problems,
    } = deserialize(&value);
    let Some(mut definition) = definition else {
        return Err(to_errors(file, problems));
    };
    // An editor hint, not content.
    definition.schema = None;

    let stem = file.strip_suffix(".json").unwrap_or(file);
    if definition.slug != stem {
        problems.push(Problem::new(
            JsonPath::root().field("slug"),
            format!(
                "'{}' does not match the file name: a definition with slug '{}' must be in {}.json (rename the file or change the slug)",
                definition.slug, definition.slug, definition.slug
            ),
        ));
    }
    // When some questions did not parse, their stand-ins are not checked.
    problems.extend(
        definition
            .problems()
            .into_iter()
            .filter(|p| question_index(&p.path).is_none_or(|i| !unparsed.contains(&i))),
    );
    if !problems.is_empty() {
        return Err(to_errors(file, problems));
    }
    let canonical_json = canonical_json(&definition);
    Ok(LoadedDefinition {
        file: file.to_string(),
        content_hash: content_hash(&canonical_json),
        canonical_json,
        warnings: definition.missing_translations(),
        definition,
    })
}

/// The problems as errors of `file`, top-level ones first, then question by question (in
/// the order found within each).
fn to_errors(file: &str, mut problems: Vec<Problem>) -> Vec<DefinitionError> {
    problems.sort_by_key(|p| question_index(&p.path));
    problems
        .into_iter()
        .map(|p| DefinitionError::at(file, p))
        .collect()
}

/// `Some(i)` for a path below `questions[i]`.
fn question_index(path: &JsonPath) -> Option<usize> {
    match path.segments() {
        [PathSegment::Field(field), PathSegment::Index(i), ..] if field == "questions" => Some(*i),
        _ => None,
    }
}

/// The definition as canonical JSON: object keys sorted, no whitespace, `$schema` left out.
pub fn canonical_json(definition: &SurveyDefinition) -> String {
    // Serialising these types cannot fail: they are plain data whose maps all have string
    // keys, with no custom `Serialize` impls.
    let value =
        serde_json::to_value(definition).expect("a survey definition always serialises to JSON");
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// SHA-256 of the canonical JSON, lower-case hex.
pub fn content_hash(canonical_json: &str) -> String {
    hex::encode(Sha256::digest(canonical_json.as_bytes()))
}

/// The JSON schema of a definition file, as `survey-definitions/schema.json` holds it.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(SurveyDefinition);
    // `{:#}` pretty-prints a JSON value (and cannot fail).
    format!("{:#}\n", schema.as_value())
}

// ---------------------------------------------------------------------------------------
// From serde errors to problems with a path
// ---------------------------------------------------------------------------------------

fn syntax_error(file: &str, error: &serde_json::Error) -> DefinitionError {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let message = if error.is_eof() {
        format!("the file ends too early ({message}): is it empty or cut off?")
    } else {
        format!("this is not valid JSON: {message}")
    };
    DefinitionError {
        file: file.to_string(),
        location: Location::Line {
            line: error.line(),
            column: error.column(),
        },
        message,
    }
}

/// What deserialising a definition gave.
struct Attempt {
    /// The definition, if its top level parsed. Questions that did not parse are replaced
    /// by stand-ins (listed in `unparsed`), so the other questions keep their index and can
    /// still be checked.
    definition: Option<SurveyDefinition>,
    /// Indexes of the questions that did not parse.
    unparsed: Vec<usize>,
    /// The serde problems, at most one for the top level and one per question.
    problems: Vec<Problem>,
}

/// Deserialises the whole definition; on failure, the top level and each question again on
/// their own, so one broken question does not hide the next.
fn deserialize(value: &Value) -> Attempt {
    let first = match typed::<SurveyDefinition>(value) {
        Ok(definition) => {
            return Attempt {
                definition: Some(definition),
                unparsed: Vec::new(),
                problems: Vec::new(),
            }
        }
        Err(problem) => problem,
    };
    let Some(questions) = value.get("questions").and_then(Value::as_array) else {
        return Attempt {
            definition: None,
            unparsed: Vec::new(),
            problems: vec![first],
        };
    };
    let mut problems = Vec::new();
    let mut top = value.clone();
    if let Some(object) = top.as_object_mut() {
        object.insert("questions".into(), Value::Array(Vec::new()));
    }
    let mut definition = match typed::<SurveyDefinition>(&top) {
        Ok(definition) => Some(definition),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let mut unparsed = Vec::new();
    for (i, question_value) in questions.iter().enumerate() {
        let parsed = question(question_value).unwrap_or_else(|problem| {
            let at = JsonPath::root().field("questions").index(i);
            problems.push(Problem::new(at.join(&problem.path), problem.message));
            unparsed.push(i);
            stand_in(i)
        });
        if let Some(definition) = &mut definition {
            definition.questions.push(parsed);
        }
    }
    if problems.is_empty() {
        // The pieces parse but the whole does not: report what serde said about the whole.
        problems.push(first);
        definition = None;
    }
    Attempt {
        definition,
        unparsed,
        problems,
    }
}

/// Holds the place of a question that did not parse. Its key is not a valid key, so it
/// never collides with a real one.
fn stand_in(index: usize) -> Question {
    Question::Text(TextQuestion {
        key: format!("#unparsed-{index}"),
        text: LocalizedText::Plain("(did not parse)".into()),
        help: None,
        required: false,
        max_length: 1,
    })
}

const KINDS: [&str; 5] = ["nps", "likert", "pain_points", "choice", "text"];

/// One question on its own, with paths relative to the question.
fn question(value: &Value) -> Result<Question, Problem> {
    let root = JsonPath::root();
    let Some(object) = value.as_object() else {
        return Err(Problem::new(
            root,
            "expected a question object such as {\"kind\": \"likert\", \"key\": \"…\", …}",
        ));
    };
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => {
            return Err(Problem::new(
                root.field("kind"),
                format!("expected a text: one of {}", KINDS.join(", ")),
            ))
        }
        None => {
            return Err(Problem::new(
                root.field("kind"),
                "is missing: say which kind of question this is (nps, likert, pain_points, choice or text)",
            ))
        }
    };
    let mut rest = object.clone();
    rest.remove("kind");
    let rest = Value::Object(rest);
    match kind {
        "nps" => typed::<NpsQuestion>(&rest).map(Question::Nps),
        "likert" => typed::<LikertQuestion>(&rest).map(Question::Likert),
        "pain_points" => typed::<PainPointsQuestion>(&rest).map(Question::PainPoints),
        "choice" => typed::<ChoiceQuestion>(&rest).map(Question::Choice),
        "text" => typed::<TextQuestion>(&rest).map(Question::Text),
        other => Err(Problem::new(
            root.field("kind"),
            format!(
                "'{other}' is not a kind of question{}; use one of {}",
                did_you_mean(other, KINDS.iter().copied()),
                KINDS.join(", ")
            ),
        )),
    }
}

/// Deserialises `T`, turning the first error into a problem at its JSON path.
fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut path = JsonPath::root();
        for segment in error.path().iter() {
            path = match segment {
                serde_path_to_error::Segment::Seq { index } => path.index(*index),
                serde_path_to_error::Segment::Map { key } => path.field(key),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => path,
            };
        }
        explain(path, &error.inner().to_string())
    })
}

/// Rewrites serde's message (which speaks Rust) for the author of a JSON file.
fn explain(path: JsonPath, message: &str) -> Problem {
    let quoted = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        let field = quoted(rest).into_iter().next().unwrap_or_default();
        return Problem::new(path.field(&field), "is missing (it is required)");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let mut names = quoted(rest).into_iter();
        let field = names.next().unwrap_or_default();
        let allowed: Vec<String> = names.collect();
        let path = match path.segments().last() {
            Some(PathSegment::Field(last)) if *last == field => path,
            _ => path.field(&field),
        };
        let hint = did_you_mean(&field, allowed.iter().map(String::as_str));
        let listing = if allowed.is_empty() {
            String::new()
        } else {
            format!("; allowed here: {}", allowed.join(", "))
        };
        return Problem::new(path, format!("unknown field{hint}{listing}"));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let mut names = quoted(rest).into_iter();
        let value = names.next().unwrap_or_default();
        let allowed: Vec<String> = names.collect();
        let hint = did_you_mean(&value, allowed.iter().map(String::as_str));
        return Problem::new(
            path,
            format!(
                "unknown value '{value}'{hint}; use one of {}",
                allowed.join(", ")
            ),
        );
    }
    let mut message = message.to_string();
    for (rust, json) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u32", "expected a whole number of 0 or more"),
        ("expected i32", "expected a whole number"),
        ("expected a sequence", "expected a list [ … ]"),
        ("expected a borrowed string", "expected a text"),
        ("expected a string", "expected a text"),
    ] {
        if let Some(start) = message.rfind(rust) {
            message.replace_range(start..start + rust.len(), json);
        }
    }
    if let Some(start) = message.find("expected struct ") {
        message.replace_range(start.., "expected an object { … }");
    }
    Problem::new(path, message)
}

/// `" (did you mean 'scale'?)"` when `word` is a likely typo of one of `candidates`.
fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 4) && *distance > 0)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| format!(" (did you mean '{candidate}'?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "$schema": "./schema.json",
        "slug": "pulse-check",
        "version": 1,
        "title": "Pulse",
        "intro": "Two minutes.",
        "segments": ["region"],
        "questions": [
            {"kind": "nps", "key": "recommend", "text": "Recommend?", "anchors": {"low": "No", "high": "Yes"}}
        ]
    }"#;

    fn errors(file: &str, text: &str) -> Vec<String> {
        parse(file, text)
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn parses_and_hashes_independently_of_layout() {
        let a = parse("pulse-check.json", GOOD).unwrap();
        let compact: Value = serde_json::from_str(GOOD).unwrap();
        let b = parse("pulse-check.json", &compact.to_string()).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        assert_eq!(a.content_hash().len(), 64);
        assert!(!a.canonical_json().contains("$schema"));
        // Spelling out a default is not a change either.
        let explicit = GOOD.replace(
            "\"key\": \"recommend\"",
            "\"key\": \"recommend\", \"required\": true",
        );
        let c = parse("pulse-check.json", &explicit).unwrap();
        assert_eq!(a.content_hash(), c.content_hash());
        // A changed text is.
        let changed = GOOD.replace("Recommend?", "Recommend us?");
        let d = parse("pulse-check.json", &changed).unwrap();
        assert_ne!(a.content_hash(), d.content_hash());
    }

    #[test]
    fn stored_canonical_json_parses_back_to_the_same_definition() {
        let a = parse("pulse-check.json", GOOD).unwrap();
        let back: SurveyDefinition = serde_json::from_str(a.canonical_json()).unwrap();
        assert_eq!(&back, a.definition());
        assert_eq!(canonical_json(&back), a.canonical_json());
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let broken = GOOD.replace("\"version\": 1,", "\"version\": 1,,");
        let errors = errors("pulse-check.json", &broken);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("pulse-check.json: line 4, column "),
            "{errors:?}"
        );
    }

    #[test]
    fn serde_errors_carry_the_json_path() {
        let typo = GOOD.replace("\"anchors\"", "\"anchor\"");
        assert_eq!(
            errors("pulse-check.json", &typo),
            ["pulse-check.json: questions[0].anchor: unknown field (did you mean 'anchors'?); allowed here: key, text, help, required, anchors"]
        );
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(
            did_you_mean("scal", ["scale", "key"].into_iter()),
            " (did you mean 'scale'?)"
        );
        assert_eq!(did_you_mean("colour", ["scale", "key"].into_iter()), "");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
