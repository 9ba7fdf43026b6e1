//! Counts laid out per cell: the wave's `cell_counts` rows (how many respondents of each
//! segment cell gave each value to each question) as dense vectors ([`Layout`],
//! [`Counts`]), read once per wave ([`read_cells`]) and rolled up in Rust.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::db::models::results as rows;
use crate::db::models::waves::WaveRow;
use crate::db::DbConn;
use crate::domain::definition::{Question, Stage, SurveyDefinition};
use crate::services::responses::{ANSWERED_VALUE, NOT_APPLICABLE_VALUE, RESPONSES_KEY};
use crate::stats;

use super::figures::answers_released;

pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Where each (question, value) count of a definition lives in a cell's dense vector.
pub(super) struct Layout {
    pub(super) slots: HashMap<String, HashMap<String, usize>>,
    pub(super) len: usize,
    pub(super) responses: usize,
    pub(super) nps: Option<NpsSlots>,
    pub(super) dimensions: Vec<DimensionSlots>,
    pub(super) pain_points: Vec<PainSlots>,
    pub(super) choices: Vec<ChoiceSlots>,
}

pub(super) struct ChoiceSlots {
    pub(super) key: String,
    pub(super) text: String,
    /// (option key, label, slot)
    pub(super) options: Vec<(String, String, usize)>,
}

pub(super) struct NpsSlots {
    pub(super) key: String,
    /// Slots of the values 0..=10.
    pub(super) values: [usize; 11],
}

pub(super) struct DimensionSlots {
    pub(super) key: String,
    pub(super) scale: u8,
    pub(super) questions: Vec<String>,
    /// Per question, the slots of 1..=scale, and of "not applicable".
    pub(super) per_question: Vec<(Vec<usize>, usize)>,
}

pub(super) struct PainSlots {
    pub(super) key: String,
    pub(super) options: Vec<(String, String, Stage, usize)>,
}

impl Layout {
    pub(super) fn new(definition: &SurveyDefinition) -> Self {
        let mut layout = Layout {
            slots: HashMap::new(),
            len: 0,
            responses: 0,
            nps: None,
            dimensions: Vec::new(),
            pain_points: Vec::new(),
            choices: Vec::new(),
        };
        layout.responses = layout.slot(RESPONSES_KEY, "");
        let texts = definition.texts(None);
        for question in &definition.questions {
            match question {
                Question::Nps(q) if layout.nps.is_none() => {
                    let mut values = [0; 11];
                    for (v, slot) in values.iter_mut().enumerate() {
                        *slot = layout.slot(&q.key, &v.to_string());
                    }
                    layout.nps = Some(NpsSlots {
                        key: q.key.clone(),
                        values,
                    });
                }
                Question::Likert(q) => {
                    let values: Vec<usize> = q
                        .values()
                        .map(|v| layout.slot(&q.key, &v.to_string()))
                        .collect();
                    let na = layout.slot(&q.key, NOT_APPLICABLE_VALUE);
                    match layout.dimensions.iter_mut().find(|d| d.key == q.dimension) {
                        // A dimension pools questions of one scale; a question on another
                        // scale than the dimension's first is left out of it.
                        Some(dim) if dim.scale == q.scale => {
                            dim.questions.push(q.key.clone());
                            dim.per_question.push((values, na));
                        }
                        Some(_) => {}
                        None => layout.dimensions.push(DimensionSlots {
                            key: q.dimension.clone(),
                            scale: q.scale,
                            questions: vec![q.key.clone()],
                            per_question: vec![(values, na)],
                        }),
                    }
                }
                Question::PainPoints(q) => {
                    let options = q
                        .options
                        .iter()
                        .map(|o| {
                            (
                                o.key.clone(),
                                texts.get(&o.label).to_string(),
                                o.stage,
                                layout.slot(&q.key, &o.key),
                            )
                        })
                        .collect();
                    layout.slot(&q.key, ANSWERED_VALUE);
                    layout.pain_points.push(PainSlots {
                        key: q.key.clone(),
                        options,
                    });
                }
                Question::Choice(q) => {
                    let options = q
                        .options
                        .iter()
                        .map(|o| {
                            (
                                o.key.clone(),
                                texts.get(&o.label).to_string(),
                                layout.slot(&q.key, &o.key),
                            )
                        })
                        .collect();
                    layout.choices.push(ChoiceSlots {
                        key: q.key.clone(),
                        text: texts.get(&q.text).to_string(),
                        options,
                    });
                }
                Question::Text(q) => {
                    // How many answered it: the number of comments, without reading them.
                    layout.slot(&q.key, ANSWERED_VALUE);
                }
                // A second NPS question is not reported.
                Question::Nps(_) => {}
            }
        }
        layout
    }

    pub(super) fn slot(&mut self, question: &str, value: &str) -> usize {
        let next = self.len;
        let slot = *self
            .slots
            .entry(question.to_string())
            .or_default()
            .entry(value.to_string())
            .or_insert(next);
        if slot == next {
            self.len += 1;
        }
        slot
    }

    /// Every Likert question pooled into a dimension: what CSAT is computed from.
    pub(super) fn likert_questions(&self) -> Vec<String> {
        self.dimensions
            .iter()
            .flat_map(|d| d.questions.iter().cloned())
            .collect()
    }

    pub(super) fn find(&self, question: &str, value: &str) -> Option<usize> {
        self.slots.get(question)?.get(value).copied()
    }
}

/// The counts of one group of respondents (a cell, a segment value, the wave).
#[derive(Clone)]
pub(super) struct Counts(pub(super) Vec<u64>);

impl Counts {
    pub(super) fn zero(layout: &Layout) -> Self {
        Counts(vec![0; layout.len])
    }

    pub(super) fn add(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = a.saturating_add(*b);
        }
    }

    pub(super) fn respondents(&self, layout: &Layout) -> u64 {
        self.0[layout.responses]
    }

    pub(super) fn nps(&self, layout: &Layout) -> Option<stats::NpsCounts> {
        let slots = layout.nps.as_ref()?;
        let mut histogram = [0u64; 11];
        for (h, &slot) in histogram.iter_mut().zip(&slots.values) {
            *h = self.0[slot];
        }
        Some(stats::NpsCounts::from_histogram(&histogram))
    }

    /// Pooled histogram of a dimension (index i = value i + 1) and its "not applicable".
    pub(super) fn dimension(&self, dim: &DimensionSlots) -> (Vec<u64>, u64) {
        let mut histogram = vec![0u64; usize::from(dim.scale)];
        let mut not_applicable = 0;
        for (values, na) in &dim.per_question {
            for (h, &slot) in histogram.iter_mut().zip(values) {
                *h += self.0[slot];
            }
            not_applicable += self.0[*na];
        }
        (histogram, not_applicable)
    }
}

/// The counts of a wave per cell, keyed by the cell's canonical JSON.
#[derive(Clone)]
pub(super) struct CellTable {
    pub(super) cells: Vec<(String, Counts)>,
}

impl CellTable {
    pub(super) fn build(layout: &Layout, read: Vec<rows::CellCounts>) -> Self {
        let mut cells: Vec<(String, Counts)> = Vec::with_capacity(read.len());
        for cell in read {
            let mut counts = Counts::zero(layout);
            // Items come sorted by question: look each question's slots up once.
            let mut question_slots: Option<(&str, Option<&HashMap<String, usize>>)> = None;
            for (question, value, n) in cell.counts() {
                let slots = match question_slots {
                    Some((q, slots)) if q == question => slots,
                    _ => {
                        let slots = layout.slots.get(question);
                        question_slots = Some((question, slots));
                        slots
                    }
                };
                if let Some(&slot) = slots.and_then(|s| s.get(value)) {
                    counts.0[slot] = counts.0[slot].saturating_add(count(n));
                }
            }
            cells.push((cell.cell, counts));
        }
        CellTable { cells }
    }

    pub(super) fn total(&self, layout: &Layout) -> Counts {
        let mut total = Counts::zero(layout);
        for (_, counts) in &self.cells {
            total.add(counts);
        }
        total
    }
}

/// A cell's attribute values (`{"business_unit":"Sales","region":"EMEA"}`).
pub(super) fn parse_cell(cell: &str) -> BTreeMap<String, String> {
    serde_json::from_str::<BTreeMap<String, serde_json::Value>>(cell)
        .map(|map| {
            map.into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    serde_json::Value::Null => None,
                    other => Some((k, other.to_string())),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every cell of a wave's read, parsed once ([`parse_cell`]).
pub(super) struct ParsedCells(HashMap<String, BTreeMap<String, String>>);

static NO_ATTRIBUTES: BTreeMap<String, String> = BTreeMap::new();

impl ParsedCells {
    fn of<'a>(cells: impl Iterator<Item = &'a str>) -> Self {
        let mut parsed = HashMap::new();
        for cell in cells {
            if !parsed.contains_key(cell) {
                parsed.insert(cell.to_string(), parse_cell(cell));
            }
        }
        ParsedCells(parsed)
    }

    /// The attribute values of `cell` (none for a cell that was not read).
    pub(super) fn get(&self, cell: &str) -> &BTreeMap<String, String> {
        self.0.get(cell).unwrap_or(&NO_ATTRIBUTES)
    }
}

#[derive(Clone)]
pub(super) struct CellsRead {
    pub(super) table: CellTable,
    /// Invited per response cell (the cells answers are stored under).
    pub(super) invited: Vec<(String, u64)>,
    /// Invited per full segment: the groups whose people are all stored under coarser
    /// cells are still listed (hidden), so the org chart's groups all appear.
    pub(super) segments: Vec<(String, u64)>,
    /// Every cell above, parsed.
    pub(super) parsed: Arc<ParsedCells>,
}

/// Reads what the figures need: every count of a wave whose answers are released, only
/// the respondents per cell otherwise (participation is all an open wave shows).
pub(super) fn read_cells(
    conn: &mut DbConn,
    wave: &WaveRow,
    layout: &Layout,
) -> anyhow::Result<CellsRead> {
    let table = if answers_released(wave) {
        CellTable::build(layout, rows::cell_counts(conn, &wave.id)?)
    } else {
        CellTable {
            cells: rows::respondents_per_cell(conn, &wave.id)?
                .into_iter()
                .map(|(cell, n)| {
                    let mut counts = Counts::zero(layout);
                    counts.0[layout.responses] = count(n);
                    (cell, counts)
                })
                .collect(),
        }
    };
    let invited: Vec<(String, u64)> = rows::invited_per_cell(conn, &wave.id)?
        .into_iter()
        .map(|(cell, n)| (cell, count(n)))
        .collect();
    let segments: Vec<(String, u64)> = rows::invited_per_segment(conn, &wave.id)?
        .into_iter()
        .map(|(cell, n)| (cell, count(n)))
        .collect();
    let parsed = ParsedCells::of(
        table
            .cells
            .iter()
            .map(|(cell, _)| cell.as_str())
            .chain(invited.iter().map(|(cell, _)| cell.as_str()))
            .chain(segments.iter().map(|(cell, _)| cell.as_str())),
    );
    Ok(CellsRead {
        table,
        invited,
        segments,
        parsed: Arc::new(parsed),
    })
}
