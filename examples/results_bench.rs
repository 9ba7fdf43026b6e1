//! Benchmark of the results page (`results` + `views::results_page`, with the rendered-body
//! cache the route uses): a
//! wave with 1,000,000 responses to a 15-question survey reported by 6 segment attributes,
//! timed cold (first computation, cache empty) and warm (cached), on SQLite and — when
//! PULSE_TEST_POSTGRES_URL is set — on PostgreSQL. Timed: the full page computed cold from
//! the counts (the wave marked cancelled, whose answers are shown from its counts: one
//! grouped read, the release plans with every figure's own audit, the figures of the wave
//! and of every group, changes and trends against the previous wave, comments, the page)
//! **beside the baseline of the same run**: DuckDB computing the same figures (the wave's
//! and every group's) from the same counts, exported to CSV and loaded into a DuckDB file
//! first (`examples/support/duckdb_results.py`; the benchmark makes a virtual environment
//! under `target/bench-venv` and installs duckdb into it with pip the first time), and the
//! ratio. Then the open wave's page (participation only), closing the wave once (the whole
//! wave's and every allowed filter's figures, frozen, and the counts deleted), warm reads,
//! and cold reads of the frozen snapshot.
//!
//! ```text
//! cargo run --release --example results_bench
//! PULSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release --example results_bench
//! PULSE_BENCH_RESPONSES=100000 cargo run --release --example results_bench   # other sizes
//! ```
//!
//! What is seeded (and what is not): 1.25 M stakeholders and invitations (80 % answer, so
//! response rates are real), 1 M `responses` rows, and the counts of every answer (`cell_counts`)
//! (generated with a seeded RNG, ~490 k count rows over 4,608 segment cells). Results are
//! computed from the counts only, so of the ~15 M `answers` rows a real wave would hold,
//! only the text answers (every 20th invitee, ~62 k comments) and the NPS answers of those
//! respondents (for the comments' promoter/detractor filter) are inserted. A closed
//! previous wave of 50 k responses (counts only) gives the page its changes and trend.
//! Seeding uses set-based SQL (`INSERT … SELECT` over a generated series) in this example
//! only; the product's SQL stays in `src/db/models`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use pulse::db::models::responses::{
    add_counts, counts_for_wave, insert_answers, AnswerRow, CountRow,
};
use pulse::db::models::{survey_versions, waves as wave_rows};
use pulse::db::{self, DatabaseUrl, DbConn};
use pulse::results::{wave_results, ResultsCache};
use pulse::views::results_cache::ResultsPageCache;
use pulse::views::results_page::{render_body, render_page, PageInputs, ResultsQuery};

const SEGMENTS: [(&str, usize); 6] = [
    ("business_unit", 6),
    ("department", 4),
    ("region", 4),
    ("country", 3),
    ("job_level", 4),
    ("tenure", 4),
];
const DIMENSIONS: [&str; 10] = [
    "understanding_needs",
    "alignment",
    "communication",
    "responsiveness",
    "ease",
    "policy_clarity",
    "partnership",
    "overall",
    "responsiveness",
    "ease",
];
const PAIN: [(&str, &str); 12] = [
    ("unclear_contact", "intake"),
    ("approval_delays", "approval"),
    ("slow_sourcing", "sourcing"),
    ("contract_turnaround", "contracting"),
    ("ordering_system", "ordering"),
    ("no_catalogue_or_contract", "ordering"),
    ("late_or_wrong_delivery", "delivery"),
    ("late_supplier_payments", "invoicing_payment"),
    ("slow_supplier_onboarding", "supplier_management"),
    ("unsuitable_suppliers", "supplier_management"),
    ("policy_unclear", "policy"),
    ("chasing_for_updates", "communication"),
];
const CHOICES: [(&str, &[&str]); 2] = [
    (
        "frequency",
        &["weekly", "monthly", "few_times_a_year", "yearly_or_less"],
    ),
    ("role", &["requester", "budget_owner", "approver"]),
];

fn definition() -> serde_json::Value {
    let mut questions = vec![serde_json::json!({
        "kind": "nps", "key": "recommend",
        "text": "How likely are you to recommend Procurement to a colleague?",
        "anchors": {"low": "Not at all likely", "high": "Extremely likely"}
    })];
    for (i, dimension) in DIMENSIONS.iter().enumerate() {
        questions.push(serde_json::json!({
            "kind": "likert", "key": format!("q{}", i + 1), "text": format!("Statement {}", i + 1),
            "scale": 5, "dimension": dimension, "allow_not_applicable": i % 3 == 0,
            "anchors": {"low": "Strongly disagree", "high": "Strongly agree"}
        }));
    }
    questions.push(serde_json::json!({
        "kind": "pain_points", "key": "pain_points", "text": "What slows you down?", "max_choices": 3,
        "options": PAIN.iter().map(|(key, stage)| serde_json::json!({"key": key, "label": key.replace('_', " "), "stage": stage})).collect::<Vec<_>>()
    }));
    for (key, options) in CHOICES {
        questions.push(serde_json::json!({
            "kind": "choice", "key": key, "text": key,
            "options": options.iter().map(|o| serde_json::json!({"key": o, "label": o})).collect::<Vec<_>>()
        }));
    }
    questions.push(serde_json::json!({
        "kind": "text", "key": "comment", "text": "Anything else?", "max_length": 1000
    }));
    serde_json::json!({
        "slug": "bench-survey", "version": 1, "title": "Benchmark survey",
        "intro": "Fifteen questions.",
        "segments": SEGMENTS.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "questions": questions,
    })
}

/// The canonical JSON of cell `index` (mixed radix over the segment cardinalities; the
/// department and country values are named after their parent so they nest).
fn cells() -> Vec<String> {
    let total: usize = SEGMENTS.iter().map(|(_, n)| n).product();
    (0..total)
        .map(|index| {
            let mut rest = index;
            let mut digit = |n: usize| {
                let d = rest % n;
                rest /= n;
                d
            };
            let (bu, dept, region, country, level, tenure) =
                (digit(6), digit(4), digit(4), digit(3), digit(4), digit(4));
            let map: BTreeMap<&str, String> = [
                ("business_unit", format!("Unit {bu}")),
                ("department", format!("Unit {bu} / Dept {dept}")),
                ("region", format!("Region {region}")),
                ("country", format!("Region {region} / Country {country}")),
                ("job_level", format!("Level {level}")),
                ("tenure", format!("Tenure {tenure}")),
            ]
            .into_iter()
            .collect();
            serde_json::to_string(&map).unwrap_or_default()
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    // The allocator set up as `pulse` sets it up (`cli::run_from`).
    pulse::allocator::give_memory_back();
    let responses: usize = match std::env::var("PULSE_BENCH_RESPONSES") {
        Ok(raw) => raw
            .parse()
            .context("PULSE_BENCH_RESPONSES must be a number")?,
        Err(_) => 1_000_000,
    };
    let dir = tempfile::tempdir()?;
    let definitions = dir.path().join("definitions");
    std::fs::create_dir_all(&definitions)?;
    std::fs::write(
        definitions.join("bench-survey.json"),
        serde_json::to_string_pretty(&definition())?,
    )?;
    let sqlite = DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string());
    run("SQLite", &sqlite, &definitions, responses)?;
    match std::env::var("PULSE_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("pulse_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin_conn = pulse::db::establish_postgres(&admin)
                .context("cannot connect to PULSE_TEST_POSTGRES_URL")?;
            admin_conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
            let mut url = url::Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            let result = run(
                "PostgreSQL",
                &DatabaseUrl::Postgres(url.to_string()),
                &definitions,
                responses,
            );
            admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            result?;
        }
        _ => println!("\nPostgreSQL: skipped (PULSE_TEST_POSTGRES_URL is not set)"),
    }
    Ok(())
}

fn ts(s: &str) -> anyhow::Result<NaiveDateTime> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")?
        .and_hms_opt(0, 0, 0)
        .context("midnight")
}

fn new_wave(
    conn: &mut DbConn,
    version_id: &str,
    title: &str,
    opens: &str,
) -> anyhow::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    wave_rows::insert(
        conn,
        &wave_rows::WaveRow {
            id: id.clone(),
            survey_version_id: version_id.into(),
            schedule_id: None,
            title: title.into(),
            audience: None,
            opens_at: ts(opens)?,
            closes_at: ts("2099-01-01")?,
            reminder_hours: "[]".into(),
            anonymity_k: 5,
            state: "open".into(),
            invited_count: 0,
            skipped_count: 0,
            reminders_enqueued: 0,
            opened_at: Some(ts(opens)?),
            closed_at: None,
            created_at: ts(opens)?,
        },
    )?;
    Ok(id)
}

/// `INSERT … SELECT` over the integers 0..n, `i` being the integer: a recursive CTE on
/// SQLite, `generate_series` on PostgreSQL.
fn series_insert(conn: &mut DbConn, n: usize, insert: &str, select: &str) -> anyhow::Result<()> {
    let sql = match conn {
        DbConn::Sqlite(_) => format!(
            "{insert} WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {last}) {select}",
            last = n as i64 - 1
        ),
        DbConn::Pg(_) => format!(
            "{insert} {} ",
            select.replacen(
                "FROM seq",
                &format!("FROM generate_series(0, {}) AS seq(i)", n as i64 - 1),
                1
            )
        ),
    };
    conn.batch_execute(&sql)?;
    Ok(())
}

/// Answers of one respondent as count keys: (question, value) pairs.
fn answer(rng: &mut StdRng, out: &mut Vec<(usize, &'static str)>, values: &Values) -> i32 {
    out.clear();
    let nps = {
        let r: f64 = rng.gen();
        // ~45 % promoters, ~30 % passives, ~25 % detractors.
        if r < 0.45 {
            rng.gen_range(9..=10)
        } else if r < 0.75 {
            rng.gen_range(7..=8)
        } else {
            rng.gen_range(0..=6)
        }
    };
    out.push((0, values.nps[nps as usize]));
    out.push((0, "_answered"));
    for q in 0..DIMENSIONS.len() {
        if q % 3 == 0 && rng.gen_bool(0.05) {
            out.push((1 + q, "na"));
        } else {
            let bias = (q % 4) as f64 * 0.1;
            let v = (1.0 + 4.0 * (rng.gen::<f64>() * 0.6 + 0.2 + bias).min(0.999)) as usize;
            out.push((1 + q, values.likert[v.clamp(1, 5)]));
        }
        out.push((1 + q, "_answered"));
    }
    let pain = 1 + DIMENSIONS.len();
    let mut picked = 0;
    for (o, (key, _)) in PAIN.iter().enumerate() {
        if picked < 3 && rng.gen_bool(0.04 + 0.025 * (o % 8) as f64) {
            out.push((pain, key));
            picked += 1;
        }
    }
    if picked > 0 {
        out.push((pain, "_answered"));
    }
    for (c, (_, options)) in CHOICES.iter().enumerate() {
        out.push((pain + 1 + c, options[rng.gen_range(0..options.len())]));
        out.push((pain + 1 + c, "_answered"));
    }
    nps
}

struct Values {
    nps: Vec<&'static str>,
    likert: Vec<&'static str>,
}

fn question_keys() -> Vec<String> {
    let mut keys = vec!["recommend".to_string()];
    keys.extend((1..=DIMENSIONS.len()).map(|i| format!("q{i}")));
    keys.push("pain_points".into());
    keys.extend(CHOICES.iter().map(|(k, _)| k.to_string()));
    keys
}

/// Generates `respondents` answer sets and adds their counts to `wave_id`; returns
/// (response index, NPS) of the respondents that commented (when `comment_every` > 0).
#[allow(clippy::too_many_arguments)]
fn seed_counts(
    conn: &mut DbConn,
    wave_id: &str,
    cells: &[String],
    invitations: usize,
    seed: u64,
    comment_every: usize,
    mut is_respondent: impl FnMut(usize) -> bool,
) -> anyhow::Result<(usize, Vec<(usize, i32)>)> {
    let values = Values {
        nps: (0..=10)
            .map(|v: i32| &*Box::leak(v.to_string().into_boxed_str()))
            .collect(),
        likert: (0..=5)
            .map(|v: i32| &*Box::leak(v.to_string().into_boxed_str()))
            .collect(),
    };
    let keys = question_keys();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut counts: BTreeMap<(usize, usize, &'static str), i64> = BTreeMap::new();
    let mut scratch = Vec::new();
    let mut commenters = Vec::new();
    let mut respondents = 0;
    for i in 0..invitations {
        if !is_respondent(i) {
            continue;
        }
        respondents += 1;
        let cell = i % cells.len();
        let nps = answer(&mut rng, &mut scratch, &values);
        *counts.entry((cell, usize::MAX, "")).or_default() += 1;
        for (q, v) in &scratch {
            *counts.entry((cell, *q, v)).or_default() += 1;
        }
        if comment_every > 0 && i % comment_every == 1 {
            commenters.push((i, nps));
            *counts
                .entry((cell, usize::MAX - 1, "_answered"))
                .or_default() += 1;
        }
    }
    let rows: Vec<CountRow> = counts
        .into_iter()
        .map(|((cell, q, value), n)| CountRow {
            wave_id: wave_id.into(),
            cell: cells[cell].clone(),
            question_key: match q {
                usize::MAX => "_responses".into(),
                q if q == usize::MAX - 1 => "comment".into(),
                q => keys[q].clone(),
            },
            value: value.into(),
            n,
        })
        .collect();
    let rows_n = rows.len();
    db::write_transaction(conn, |conn| add_counts(conn, &rows))?;
    println!(
        "  {respondents} respondents → {rows_n} counts over {} cells",
        cells.len()
    );
    Ok((respondents, commenters))
}

fn time<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, Duration)> {
    let started = Instant::now();
    let value = f()?;
    Ok((value, started.elapsed()))
}

fn run(
    label: &str,
    url: &DatabaseUrl,
    definitions: &std::path::Path,
    responses: usize,
) -> anyhow::Result<()> {
    println!("\n{label}");
    let pool = db::connect(url)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let now = ts("2027-02-01")?;
    pulse::services::surveys::load_and_pin(&mut conn, definitions, now)?;
    let version = survey_versions::latest(&mut conn, "bench-survey")?
        .context("the bench survey is pinned")?;
    let cells = cells();
    let invitations = responses * 5 / 4;

    let seed_started = Instant::now();
    // The previous wave: 50,000 respondents, counts only, closed (its snapshot is frozen).
    let previous = new_wave(&mut conn, &version.id, "H2 2026", "2026-07-15")?;
    seed_counts(&mut conn, &previous, &cells, 62_500, 7, 0, |i| i % 5 != 0)?;
    pulse::services::waves::close_wave(&mut conn, &previous, ts("2026-08-15")?)?;

    let wave = new_wave(&mut conn, &version.id, "H1 2027", "2027-01-15")?;
    conn.batch_execute("CREATE TABLE bench_cells (idx INTEGER PRIMARY KEY, cell TEXT NOT NULL)")?;
    for chunk in cells.chunks(500).enumerate() {
        let values: Vec<String> = chunk
            .1
            .iter()
            .enumerate()
            .map(|(j, c)| format!("({}, '{}')", chunk.0 * 500 + j, c.replace('\'', "''")))
            .collect();
        conn.batch_execute(&format!(
            "INSERT INTO bench_cells (idx, cell) VALUES {}",
            values.join(",")
        ))?;
    }
    let n_cells = cells.len();
    let (_, took) = time(|| {
        series_insert(
            &mut conn,
            invitations,
            "INSERT INTO stakeholders (id, email, name, language, attributes, active, created_at, updated_at)",
            "SELECT 's' || i, 'p' || i || '@example.com', NULL, NULL, '{}', TRUE, '2027-01-01 00:00:00', '2027-01-01 00:00:00' FROM seq",
        )?;
        series_insert(
            &mut conn,
            invitations,
            "INSERT INTO invitations (id, wave_id, stakeholder_id, token_hash, unsubscribe_hash, segment, language, created_at, response_cell)",
            &format!("SELECT 'i' || i, '{wave}', 's' || i, 't' || i, 'u' || i, c.cell, NULL, '2027-01-15 00:00:00', c.cell FROM seq JOIN bench_cells c ON c.idx = i % {n_cells}"),
        )?;
        // What opening a wave writes beside its invitations: invitations per response cell
        // and per full segment (the same here: no cell is coarsened).
        conn.batch_execute(&format!(
            "INSERT INTO wave_cells (wave_id, cell, invited) SELECT wave_id, segment, COUNT(*) FROM invitations WHERE wave_id = '{wave}' GROUP BY wave_id, segment;
             INSERT INTO wave_segments (wave_id, segment, invited) SELECT wave_id, segment, COUNT(*) FROM invitations WHERE wave_id = '{wave}' GROUP BY wave_id, segment"
        ))?;
        series_insert(
            &mut conn,
            invitations,
            "INSERT INTO responses (id, wave_id, cell, submitted_on)",
            &format!("SELECT 'r' || i, '{wave}', c.cell, '2027-01-20' FROM seq JOIN bench_cells c ON c.idx = i % {n_cells} WHERE i % 5 <> 0"),
        )?;
        Ok(())
    })?;
    println!(
        "  {invitations} stakeholders + invitations and {responses} responses inserted in {:.1} s",
        took.as_secs_f64()
    );
    let ((_, commenters), took) = time(|| {
        seed_counts(&mut conn, &wave, &cells, invitations, 42, 20, |i| {
            i % 5 != 0
        })
    })?;
    println!(
        "  counts generated and inserted in {:.1} s",
        took.as_secs_f64()
    );
    let texts = [
        "Approvals take too long when the amount is small.",
        "Great help from the category team this half-year.",
        "I never know whom to ask about a new supplier.",
        "Please publish the policy changes somewhere central.",
    ];
    let answers: Vec<AnswerRow> = commenters
        .iter()
        .flat_map(|(i, nps)| {
            [
                AnswerRow {
                    response_id: format!("r{i}"),
                    question_key: "recommend".into(),
                    position: 0,
                    value_int: Some(*nps),
                    value_text: None,
                },
                AnswerRow {
                    response_id: format!("r{i}"),
                    question_key: "comment".into(),
                    position: 0,
                    value_int: None,
                    value_text: Some(format!("{} (#{i})", texts[i % texts.len()])),
                },
            ]
        })
        .collect();
    db::write_transaction(&mut conn, |conn| insert_answers(conn, &answers))?;
    conn.batch_execute("DROP TABLE bench_cells")?;
    // What autovacuum does after a bulk load on PostgreSQL (visibility map for index-only
    // scans, planner statistics); statistics on SQLite.
    let vacuum = if url.is_sqlite() {
        "ANALYZE"
    } else {
        "VACUUM ANALYZE"
    };
    conn.batch_execute(vacuum)?;
    wave_rows::set_counts(&mut conn, &wave, invitations as i32, 0)?;
    println!(
        "  {} comments; seeding took {:.1} s in all",
        commenters.len(),
        seed_started.elapsed().as_secs_f64()
    );

    // The measurements: the full page = WaveResults + rendered HTML.
    let cache = ResultsCache::default();
    let pages = ResultsPageCache::default();
    let query = ResultsQuery {
        by: Some("department".into()),
        comments: None,
        filter: None,
        page: None,
    };
    let page = |conn: &mut DbConn, cache: &ResultsCache| -> anyhow::Result<usize> {
        let results = wave_results(conn, cache, &wave, now).map_err(|e| anyhow::anyhow!("{e}"))?;
        let actions = pulse::actions::beside_figures(
            conn,
            &results.wave.survey_slug,
            results.wave.opens_at,
            None,
            now,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let body = pages
            .body(&results, &results, &query, &actions, || {
                let comments = pulse::results::comments_page(conn, &results, None, 1)?;
                render_body(&PageInputs {
                    results: &results,
                    whole: None,
                    comments: comments.as_ref(),
                    query: &query,
                    actions: Some(&actions),
                })
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let html = render_page(&results, &body, None, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(html.len())
    };
    // The full page cold, from the counts: a cancelled wave shows its answers from them.
    conn.batch_execute(&format!(
        "UPDATE waves SET state = 'cancelled' WHERE id = '{wave}'"
    ))?;
    let mut full_colds = Vec::new();
    for _ in 0..5 {
        cache.clear();
        pages.clear();
        let (_, took) = time(|| page(&mut conn, &cache))?;
        full_colds.push(took);
    }
    conn.batch_execute(&format!(
        "UPDATE waves SET state = 'open' WHERE id = '{wave}'"
    ))?;
    let baseline = duckdb_baseline(&mut conn, &wave, dir_of(url))?;
    full_colds.sort();
    let full_median = full_colds[full_colds.len() / 2].as_secs_f64() * 1e3;
    report(
        "full page cold from the counts (read + plans + audits + figures of the wave and every group + changes + page)",
        &mut full_colds,
    );
    match baseline {
        Some((median, min, rows)) => println!(
            "  baseline, same run: DuckDB computing the same figures from the same counts ({rows} rows of figures): median {median:.1} ms (min {min:.1}); ratio {:.2} (target ≤ 1.0 on SQLite, ≤ 2 on PostgreSQL)",
            full_median / median
        ),
        None => println!("  baseline: skipped (no python3 with duckdb; see above)"),
    }
    // While the wave is open the page shows participation only (answers are released at
    // closing), so the open page is cheap; the full page is the closed wave's.
    let mut open_colds = Vec::new();
    for _ in 0..3 {
        cache.clear();
        pages.clear();
        let (_, took) = time(|| page(&mut conn, &cache))?;
        open_colds.push(took);
    }
    report(
        "open wave, cold (participation only: query + plan + render)",
        &mut open_colds,
    );
    // Where a cold computation spends its time in the database: the reads alone (before
    // closing: closing keeps only the published results and deletes the counts).
    let (rows, took) = time(|| Ok(pulse::db::models::results::cell_counts(&mut conn, &wave)?))?;
    let counts_read = format!(
        "    of which the counts read ({} rows): {:.0} ms",
        rows.len(),
        took.as_secs_f64() * 1e3
    );
    let (_, took) = time(|| {
        Ok(pulse::db::models::results::invited_per_cell(
            &mut conn, &wave,
        )?)
    })?;
    let invited_read = format!(
        "    invitations per cell: {:.0} ms",
        took.as_secs_f64() * 1e3
    );
    let (sample, took) = time(|| {
        Ok(pulse::db::models::results::comment_sample(
            &mut conn,
            &wave,
            "comment",
            "recommend",
            &uuid::Uuid::new_v4().to_string(),
            pulse::results::COMMENT_SAMPLE,
        )?)
    })?;
    let sample_read = format!(
        "    a random sample of {} comments with their NPS answer: {:.0} ms",
        sample.len(),
        took.as_secs_f64() * 1e3
    );

    // Closing, once (it is not repeatable: the counts are deleted afterwards): the whole
    // wave's figures with every figure's own audit, the same for every allowed filter,
    // the snapshots, and the compaction.
    let (_, took) = time(|| Ok(pulse::services::waves::close_wave(&mut conn, &wave, now)?))?;
    let mut closing = vec![took];
    // The full page, cold: the snapshot read and rendered.
    let mut colds = Vec::new();
    let mut html_len = 0;
    for _ in 0..3 {
        cache.clear();
        pages.clear();
        let (len, took) = time(|| page(&mut conn, &cache))?;
        html_len = len;
        colds.push(took);
    }
    let mut warms = Vec::new();
    for _ in 0..20 {
        let (_, took) = time(|| page(&mut conn, &cache))?;
        warms.push(took);
    }
    let results =
        wave_results(&mut conn, &cache, &wave, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "  page: {:.0} kB of HTML; {} responses, NPS {:+.1}, {} segment attributes, {} tests, {} flagged",
        html_len as f64 / 1e3,
        results.responses,
        results.nps.as_ref().map_or(f64::NAN, |n| n.score),
        results.segments.len(),
        results.significance.tests,
        results.significance.flagged,
    );
    report(
        "closing (queries + plans + compute, whole wave and every allowed filter + snapshots + compaction)",
        &mut closing,
    );
    println!("{counts_read}");
    println!("{invited_read}");
    println!("{sample_read}");
    report("warm (cached results and body + layout)", &mut warms);

    report(
        "closed wave, cold (snapshot read + parse + render)",
        &mut colds,
    );
    Ok(())
}

/// A folder beside the benchmark's database for the baseline's files.
fn dir_of(url: &DatabaseUrl) -> std::path::PathBuf {
    match url {
        DatabaseUrl::Sqlite(path) => std::path::Path::new(path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir),
        _ => std::env::temp_dir(),
    }
}

/// A Python with duckdb: `target/bench-venv`, made and filled with pip the first time.
fn duckdb_python() -> Option<std::path::PathBuf> {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let python = venv.join("bin/python");
    let has_duckdb = |python: &std::path::Path| {
        std::process::Command::new(python)
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_duckdb(&python) {
        return Some(python);
    }
    println!("  making {} with duckdb (pip, once)…", venv.display());
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && std::process::Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "duckdb"])
            .status()
            .is_ok_and(|s| s.success());
    (made && has_duckdb(&python)).then_some(python)
}

/// The counts of `wave` as CSV, loaded into DuckDB; the baseline's (median ms, min ms,
/// rows of figures) over 5 cold runs.
fn duckdb_baseline(
    conn: &mut DbConn,
    wave: &str,
    dir: std::path::PathBuf,
) -> anyhow::Result<Option<(f64, f64, usize)>> {
    let Some(python) = duckdb_python() else {
        println!("  baseline skipped: python3 -m venv / pip install duckdb failed");
        return Ok(None);
    };
    let csv_path = dir.join("counts.csv");
    let mut writer = csv::Writer::from_path(&csv_path)?;
    writer.write_record(["cell", "question_key", "value", "n"])?;
    for row in counts_for_wave(conn, wave)? {
        writer.write_record([row.cell, row.question_key, row.value, row.n.to_string()])?;
    }
    writer.flush()?;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/support/duckdb_results.py");
    let mut command = std::process::Command::new(python);
    command.arg(script).arg(&csv_path).arg(&dir).arg("5");
    command.args(SEGMENTS.iter().map(|(s, _)| *s));
    let output = command.output().context("running the DuckDB baseline")?;
    anyhow::ensure!(
        output.status.success(),
        "the DuckDB baseline failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let parts: Vec<&str> = text.split_whitespace().collect();
    anyhow::ensure!(parts.len() == 3, "unexpected baseline output: {text}");
    Ok(Some((
        parts[0].parse()?,
        parts[1].parse()?,
        parts[2].parse()?,
    )))
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  {what}: median {:.1} ms (min {:.1}, max {:.1}, {} runs)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}
