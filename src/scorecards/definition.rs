//! The scorecard definition: which measures a business unit's scorecard shows, where each
//! comes from, and its target. A versioned JSON file beside the survey definitions
//! (`survey-definitions/kpis/scorecard.json`), checked against types that also generate
//! `survey-definitions/kpis/schema.json`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context;
use rust_embed::RustEmbed;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::request_figures::{TargetDays, DEFAULT_TARGET_DAYS};
use super::status::Better;
use crate::domain::definition::LocalizedText;

/// The folder below the survey definitions folder that holds the scorecard definition.
pub const KPI_DIR: &str = "kpis";
/// The scorecard definition's file name.
pub const FILE: &str = "scorecard.json";

/// The definition shipped with the product, used when the folder has none.
#[derive(RustEmbed)]
#[folder = "survey-definitions/kpis/"]
#[include = "scorecard.json"]
struct Shipped;

/// What a scorecard shows. Raise "version" with every change: scorecards name the version
/// their targets come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorecardDefinition {
    /// For editors: "./schema.json". Ignored by Pulse.
    #[serde(rename = "$schema", default, skip_serializing)]
    pub schema: Option<String>,
    #[schemars(range(min = 1))]
    pub version: i32,
    /// The slug of the survey whose figures the scorecards show, e.g. "internal-customer".
    pub survey: String,
    /// Days allowed to fulfil a procurement request.
    #[serde(default)]
    pub request_targets: RequestTargets,
    /// The measures, in the order the scorecard shows them.
    #[schemars(length(min = 1))]
    pub measures: Vec<Measure>,
}

/// Days allowed to fulfil a request: a default and overrides per request category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestTargets {
    #[serde(default = "default_days")]
    #[schemars(range(min = 1, max = 3650))]
    pub default_days: u32,
    /// Category (as in the request log) → days.
    #[serde(default)]
    pub categories: BTreeMap<String, u32>,
}

fn default_days() -> u32 {
    DEFAULT_TARGET_DAYS
}

impl Default for RequestTargets {
    fn default() -> Self {
        Self {
            default_days: DEFAULT_TARGET_DAYS,
            categories: BTreeMap::new(),
        }
    }
}

impl RequestTargets {
    pub fn target_days(&self) -> TargetDays {
        TargetDays {
            default: self.default_days,
            by_category: self.categories.clone(),
        }
    }
}

/// One measure of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Stable key; for imported KPIs the key used in the KPI values file, e.g. "cost_savings".
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,62}$"))]
    pub key: String,
    /// The measure's name, as text or per language.
    pub name: LocalizedText,
    /// Where the figure comes from.
    pub source: Source,
    /// How the figure is written: "%" for shares (0–100), "points" for NPS, "days", or a
    /// currency or other unit for imported KPIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Whether a higher or a lower figure is better.
    pub better: Better,
    /// The target for every business unit (in the figure's unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// "Almost": missed by at most this much (in the figure's unit). 0 = no "almost".
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub almost: f64,
    /// Targets for single business units, overriding "target".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unit_targets: BTreeMap<String, f64>,
}

impl Measure {
    /// The target of `unit`, or the general one (`None`: the organisation).
    pub fn target_for(&self, unit: Option<&str>) -> Option<f64> {
        unit.and_then(|u| self.unit_targets.get(u).copied())
            .or(self.target)
    }

    pub fn name(&self) -> &str {
        self.name.get("en", "en")
    }
}

/// Where a measure's figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// Imported with `pulse kpi import` under the measure's key.
    Kpi,
    /// The survey's Net Promoter Score (−100…100).
    Nps,
    /// The survey's CSAT: share of top-two-box answers (%).
    Csat,
    /// The mean of one survey dimension (1–5 or 1–7).
    Dimension { dimension: String },
    /// The share of respondents naming one pain point (%).
    PainPoint { option: String },
    /// A figure of the request log.
    Requests { figure: RequestFigure },
    /// The Net Promoter Score of the pulses after fulfilled requests (−100…100): the
    /// quarters of the half-year whose results are released, for the unit where their
    /// release plans show it.
    PulseNps,
}

impl Source {
    /// Whether the figure comes from survey answers (and so through the release plan).
    pub fn is_survey(&self) -> bool {
        matches!(
            self,
            Source::Nps | Source::Csat | Source::Dimension { .. } | Source::PainPoint { .. }
        )
    }
}

/// A figure of the request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestFigure {
    Opened,
    Fulfilled,
    /// Share of the requests fulfilled in the half-year that took at most their target (%).
    WithinTargetShare,
    CycleMedianDays,
    CycleP90Days,
    /// Requests still open at the end of the half-year and older than their target.
    OpenPastTarget,
}

/// The JSON schema of the scorecard definition, as `survey-definitions/kpis/schema.json`
/// holds it.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ScorecardDefinition);
    format!("{:#}\n", schema.as_value())
}

/// Parses and checks a scorecard definition; errors name the file and the place in it.
pub fn parse(file: &str, text: &str) -> anyhow::Result<ScorecardDefinition> {
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    let definition: ScorecardDefinition =
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            anyhow::anyhow!("{file}: at {path}: {}", e.into_inner())
        })?;
    let mut problems = Vec::new();
    if definition.version < 1 {
        problems.push("version: must be 1 or more".to_string());
    }
    let mut keys = HashSet::new();
    for (index, measure) in definition.measures.iter().enumerate() {
        let at = format!("measures[{index}]");
        let key_ok = measure.key.len() <= 63
            && measure.key.starts_with(|c: char| c.is_ascii_lowercase())
            && measure
                .key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            problems.push(format!(
                "{at}.key: '{}' is not a valid key: use lower-case letters, digits and _, starting with a letter",
                measure.key
            ));
        }
        if !keys.insert(measure.key.as_str()) {
            problems.push(format!(
                "{at}.key: '{}' is used by an earlier measure",
                measure.key
            ));
        }
        if !(measure.almost >= 0.0 && measure.almost.is_finite()) {
            problems.push(format!("{at}.almost: must be 0 or more"));
        }
        if measure.name().trim().is_empty() {
            problems.push(format!("{at}.name: is empty"));
        }
    }
    if definition.measures.is_empty() {
        problems.push("measures: list at least one measure".to_string());
    }
    if !problems.is_empty() {
        anyhow::bail!("{file}:\n  {}", problems.join("\n  "));
    }
    Ok(definition)
}

/// The scorecard definition of the survey definitions folder (`DIR/kpis/scorecard.json`),
/// else the one built into the binary.
pub fn load_configured(definitions_dir: &Path) -> anyhow::Result<ScorecardDefinition> {
    let path = definitions_dir.join(KPI_DIR).join(FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return parse(&path.display().to_string(), &text);
    }
    load_built_in()
}

pub fn load_built_in() -> anyhow::Result<ScorecardDefinition> {
    let file = Shipped::get(FILE).context("the built-in scorecard definition is missing")?;
    let text = std::str::from_utf8(&file.data).context("the built-in scorecard definition")?;
    parse(FILE, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_definition_is_valid() {
        let definition = load_built_in().unwrap();
        assert!(definition.measures.iter().any(|m| m.key == "within_target"));
    }

    #[test]
    fn the_shipped_schema_is_up_to_date() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-definitions/kpis");
        let on_disk = std::fs::read_to_string(dir.join("schema.json")).unwrap();
        assert!(
            on_disk == schema_json(),
            "survey-definitions/kpis/schema.json is out of date with the Rust types; regenerate it with\n\n    cargo run -- kpi schema > survey-definitions/kpis/schema.json\n"
        );
        let shipped: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(FILE)).unwrap()).unwrap();
        assert_eq!(shipped["$schema"], "./schema.json");
    }

    #[test]
    fn reports_problems_with_their_place() {
        let error = parse(
            "x.json",
            r#"{"version": 1, "survey": "s", "measures": [{"key": "a", "name": "A", "source": {"from": "requests", "figure": "fast"}, "better": "higher"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("x.json: at measures[0].source"),
            "{error}"
        );
        let error = parse(
            "x.json",
            r#"{"version": 1, "survey": "s", "measures": [
                {"key": "a", "name": "A", "source": {"from": "nps"}, "better": "higher"},
                {"key": "a", "name": "B", "source": {"from": "kpi"}, "better": "sideways"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("measures[1].better"), "{error}");
        let error = parse(
            "x.json",
            r#"{"version": 1, "survey": "s", "measures": [
                {"key": "a", "name": "A", "source": {"from": "nps"}, "better": "higher"},
                {"key": "a", "name": "B", "source": {"from": "kpi"}, "better": "lower", "almost": -1}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("measures[1].key: 'a' is used by an earlier measure"),
            "{error}"
        );
        assert!(
            error.contains("measures[1].almost: must be 0 or more"),
            "{error}"
        );
    }
}
