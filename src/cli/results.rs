//! `pulse results WAVE [--format json|csv]`: a wave's results on standard output — the
//! same figures, with the same anonymity rules, as the results page and its exports.

use std::io::Write;
use std::process::ExitCode;

use super::GlobalArgs;
use crate::clock::{Clock, SystemClock};
use crate::results::{self, ResultsCache, SegmentFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The results as JSON (the same document as GET /api/v1/waves/{id}/results)
    Json,
    /// Aggregated figures as CSV (the same rows as the CSV download)
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ResultsArgs {
    /// Wave id, or a unique prefix of it (see `pulse wave list`)
    pub wave: String,
    /// Output format
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Only the respondents of one segment group, as attribute=value (e.g. region=EMEA);
    /// closed waves only, refused for groups too small to keep answers anonymous
    #[arg(long, value_parser = SegmentFilter::parse)]
    pub filter: Option<SegmentFilter>,
}

pub fn run(global: &GlobalArgs, args: ResultsArgs) -> anyhow::Result<ExitCode> {
    let pool = global.connect()?;
    let mut conn = pool.get()?;
    let wave = super::wave::resolve(&mut conn, &args.wave)?;
    let cache = ResultsCache::default();
    let now = SystemClock.now();
    let results = match &args.filter {
        Some(filter) => results::filtered_results(&mut conn, &cache, &wave.id, filter, now),
        None => results::wave_results(&mut conn, &cache, &wave.id, now),
    }
    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let output = match args.format {
        Format::Json => {
            let mut json = serde_json::to_vec_pretty(&*results)?;
            json.push(b'\n');
            json
        }
        Format::Csv => crate::export::to_csv(&results)?,
    };
    std::io::stdout().lock().write_all(&output)?;
    Ok(ExitCode::SUCCESS)
}
