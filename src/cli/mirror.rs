//! `pulse mirror [--half 2026-H1] [--format text|json|csv]`: the customer-of-choice mirror
//! of a half-year, and `pulse map WAVE [--by ATTRIBUTE] [--importance ATTRIBUTE] [--measure
//! nps|csat]`: a wave's stakeholder map — the same figures, through the same anonymity
//! rules, as their pages and exports.

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use super::GlobalArgs;
use crate::clock::{Clock, SystemClock};
use crate::results::map::{self, MapQuery, Measure};
use crate::results::mirror::{self, Mirror};
use crate::results::ResultsCache;
use crate::scorecards::period::HalfYear;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for reading in a terminal
    Text,
    /// The mirror as JSON (the same document as GET /api/v1/mirror)
    Json,
    /// The same rows as the CSV download
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct MirrorArgs {
    /// The half-year, e.g. 2026-H1 (default: the latest with a closed wave of each side)
    #[arg(long, value_parser = HalfYear::parse)]
    pub half: Option<HalfYear>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, clap::Args)]
pub struct MapArgs {
    /// Wave id, or a unique prefix of it (see `pulse wave list`)
    pub wave: String,
    /// The breakdown to map (a segment attribute; default: the survey's first)
    #[arg(long)]
    pub by: Option<String>,
    /// The importance attribute (default: the first the survey's definition names)
    #[arg(long)]
    pub importance: Option<String>,
    /// Satisfaction as nps or csat
    #[arg(long, default_value = "nps", value_parser = Measure::parse)]
    pub measure: Measure,
}

pub fn run(global: &GlobalArgs, args: MirrorArgs) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let mirror = mirror::mirror(
        &mut conn,
        &ResultsCache::default(),
        args.half,
        SystemClock.now(),
    )
    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let output = match args.format {
        Format::Json => {
            let mut json = serde_json::to_vec_pretty(&mirror)?;
            json.push(b'\n');
            json
        }
        Format::Csv => crate::export::rows_to_csv(crate::export::mirror::rows(&mirror))?,
        Format::Text => text(&mirror).into_bytes(),
    };
    std::io::stdout().lock().write_all(&output)?;
    Ok(ExitCode::SUCCESS)
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".into())
}

fn text(m: &Mirror) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Customer of choice, {}: internal customers ({}, {} responses) and suppliers ({}, {} responses){}",
        m.half_year,
        m.internal.wave_title,
        m.internal.responses,
        m.suppliers.wave_title,
        m.suppliers.responses,
        m.previous_half_year
            .as_ref()
            .map(|p| format!("; changes since {p}"))
            .unwrap_or_default()
    );
    for side in [&m.internal, &m.suppliers] {
        let _ = writeln!(
            out,
            "NPS of {}: {}",
            side.audience.label(),
            or_dash(side.nps.as_ref().map(|n| format!(
                "{:+.1} ({:+.1} to {:+.1}){}",
                n.score,
                n.ci.0,
                n.ci.1,
                n.change.map(|c| format!(", {c:+.1} points")).unwrap_or_default()
            )))
        );
    }
    if let Some(index) = &m.customer_of_choice {
        let _ = writeln!(
            out,
            "Customer-of-choice index: {}",
            or_dash(index.index.map(|i| format!(
                "{:.1} %{}{}",
                100.0 * i,
                index
                    .ci
                    .map(|c| format!(" ({:.1} to {:.1} %)", 100.0 * c.0, 100.0 * c.1))
                    .unwrap_or_default(),
                index
                    .change
                    .map(|c| format!(", {:+.1} percentage points", 100.0 * c))
                    .unwrap_or_default()
            )))
        );
    }
    let _ = writeln!(
        out,
        "\n{:<32} {:>9} {:>9} {:>7} {:>7}",
        "pair (mean)", "internal", "suppliers", "gap", "change"
    );
    for pair in &m.pairs {
        let _ = writeln!(
            out,
            "{:<32} {:>9} {:>9} {:>7} {:>7}",
            pair.label,
            or_dash(pair.internal.mean.map(|v| format!("{v:.2}"))),
            or_dash(pair.suppliers.mean.map(|v| format!("{v:.2}"))),
            or_dash(pair.gap.map(|v| format!("{v:+.2}"))),
            or_dash(pair.gap_change.map(|v| format!("{v:+.2}"))),
        );
    }
    out
}

pub fn run_map(global: &GlobalArgs, args: MapArgs) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let wave = super::wave::resolve(&mut conn, &args.wave)?;
    let query = MapQuery {
        attribute: args.by,
        importance: args.importance,
        measure: args.measure,
    };
    let map = map::map(
        &mut conn,
        &ResultsCache::default(),
        &wave.id,
        &query,
        SystemClock.now(),
    )
    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let mut json = serde_json::to_vec_pretty(&map)?;
    json.push(b'\n');
    std::io::stdout().lock().write_all(&json)?;
    Ok(ExitCode::SUCCESS)
}
