//! The demo's seeded random model, pure (no database): the organisation (people, business
//! units, departments, regions, suppliers) and how a person answers a survey wave.
//!
//! Every answer is drawn from a latent satisfaction `s` (about −1.5…1.5):
//!
//! ```text
//! s = mood(unit, wave) + person offset (fixed per person) + wave noise
//! NPS      = round(7.4 + 1.9·s + N(0, 1))            clamped to 0..=10
//! Likert   = round(3.3 + 0.85·s + bias(dimension) + N(0, 0.75)), on 1..=scale
//! pain p   = base(option, wave) · (1 − 0.35·s)        at most `max_choices`, kept in definition order
//! ```
//!
//! The trend the demo shows is in `mood` and `base`: Manufacturing's mood rises wave by wave
//! and IT's falls; "approval_delays" fades while "slow_supplier_onboarding" grows. Nothing
//! here is a total: the figures the product shows come from the answers stored.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::Rng;

use crate::domain::definition::{Question, SurveyDefinition};

/// The unit whose satisfaction improves from wave to wave.
pub const IMPROVING_UNIT: &str = "Manufacturing";
/// The unit whose satisfaction falls from wave to wave.
pub const FALLING_UNIT: &str = "IT";
/// The pain point that fades over the waves.
pub const FADING_PAIN_POINT: &str = "approval_delays";
/// The pain point that grows over the waves.
pub const GROWING_PAIN_POINT: &str = "slow_supplier_onboarding";
/// Internal-customer waves the demo plays: four closed half-years and the open one.
pub const INTERNAL_WAVES: usize = 5;

/// A business unit of the demo organisation.
struct Unit {
    name: &'static str,
    people: usize,
    /// Mean satisfaction in the first wave.
    mood: f64,
    /// Change of the mean satisfaction per wave.
    drift: f64,
    /// Share of people who answer a wave.
    response_rate: f64,
    /// Departments with their share of the unit's people.
    departments: &'static [(&'static str, f64)],
}

const UNITS: [Unit; 6] = [
    Unit {
        name: IMPROVING_UNIT,
        people: 340,
        mood: -0.55,
        drift: 0.28,
        response_rate: 0.55,
        departments: &[
            ("Production", 0.45),
            ("Maintenance", 0.2),
            ("Quality", 0.15),
            ("Plant Logistics", 0.2),
        ],
    },
    Unit {
        name: "Research & Development",
        people: 250,
        mood: 0.15,
        drift: 0.0,
        response_rate: 0.66,
        departments: &[
            ("Product Development", 0.5),
            ("Lab Services", 0.2),
            ("Engineering", 0.3),
        ],
    },
    Unit {
        name: "Sales & Marketing",
        people: 240,
        mood: -0.05,
        drift: 0.02,
        response_rate: 0.48,
        departments: &[
            ("Field Sales", 0.5),
            ("Marketing", 0.3),
            ("Customer Service", 0.2),
        ],
    },
    Unit {
        name: "Finance",
        people: 130,
        mood: 0.25,
        drift: 0.0,
        response_rate: 0.72,
        departments: &[
            ("Controlling", 0.45),
            ("Accounting", 0.4),
            ("Treasury", 0.115),
            // Tiny on purpose (4 people): its figures stay hidden (anonymity threshold 5).
            ("Internal Audit", 0.035),
        ],
    },
    Unit {
        name: FALLING_UNIT,
        people: 190,
        mood: 0.5,
        drift: -0.24,
        response_rate: 0.6,
        departments: &[
            ("Infrastructure", 0.35),
            ("Business Applications", 0.45),
            ("IT Security", 0.2),
        ],
    },
    Unit {
        name: "Corporate Services",
        people: 250,
        mood: 0.05,
        drift: 0.03,
        response_rate: 0.58,
        departments: &[
            ("Human Resources", 0.3),
            ("Legal", 0.15),
            ("Facilities", 0.35),
            ("Communications", 0.2),
        ],
    },
];

/// Suppliers invited to the supplier survey.
pub const SUPPLIERS: usize = 100;

/// Regions: (name, share of people, share of German speakers).
const REGIONS: [(&str, f64, f64); 4] = [
    ("DACH", 0.42, 0.85),
    ("Rest of Europe", 0.25, 0.08),
    ("Americas", 0.23, 0.0),
    ("Asia-Pacific", 0.10, 0.0),
];

const SUPPLIER_TIERS: [(&str, f64, f64); 3] = [
    ("strategic", 0.15, 0.35),
    ("preferred", 0.35, 0.05),
    ("approved", 0.5, -0.25),
];

const SUPPLIER_CATEGORIES: [&str; 6] = [
    "Raw Materials",
    "Components",
    "Logistics",
    "IT Services",
    "Facility Services",
    "Professional Services",
];

const FIRST_NAMES: [&str; 40] = [
    "Anna",
    "Lukas",
    "Sophie",
    "Jonas",
    "Marie",
    "Felix",
    "Lena",
    "Paul",
    "Laura",
    "Maximilian",
    "Julia",
    "Elias",
    "Sara",
    "Jürgen",
    "Katharina",
    "Stefan",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Mia",
    "James",
    "Charlotte",
    "Lucas",
    "Amelia",
    "Mateo",
    "Isabella",
    "Hiroshi",
    "Mei",
    "Arjun",
    "Priya",
    "Chen",
    "Sofia",
    "Diego",
    "Camille",
    "Louis",
    "Giulia",
    "Marco",
    "Eva",
    "Björn",
];

const LAST_NAMES: [&str; 40] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Tanaka",
    "Suzuki",
    "Wang",
    "Li",
    "Sharma",
    "Patel",
    "Rossi",
    "Bianchi",
    "Dubois",
    "Martin",
    "Novak",
    "Jensen",
    "Lindqvist",
    "Kowalski",
];

const SUPPLIER_WORDS: [&str; 12] = [
    "Alpen",
    "Nordstern",
    "Rhein",
    "Atlas",
    "Vertex",
    "Helix",
    "Kestrel",
    "Orion",
    "Bergmann",
    "Meridian",
    "Falcon",
    "Lumen",
];

const SUPPLIER_KINDS: [&str; 8] = [
    "Components",
    "Logistik",
    "Industrial",
    "Services",
    "Systems",
    "Packaging",
    "Consulting",
    "Materials",
];

/// Who someone is to procurement.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// An internal customer in business unit `unit` (index into the units).
    Internal { unit: usize },
    /// A supplier with its tier's mood.
    Supplier { tier_mood: f64 },
}

/// One stakeholder of the demo organisation.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub name: String,
    pub language: &'static str,
    /// Segment attributes, as imported (column name, value).
    pub attributes: Vec<(&'static str, String)>,
    pub role: Role,
    /// Fixed part of the person's satisfaction.
    pub offset: f64,
    /// How much more (or less) likely than their unit they are to answer.
    pub propensity: f64,
}

/// The demo organisation: internal customers first, then suppliers.
#[derive(Debug, Clone)]
pub struct Organisation {
    pub people: Vec<Person>,
}

/// The CSV columns, in order (`email,name,language` then the attributes).
const ATTRIBUTE_COLUMNS: [&str; 8] = [
    "stakeholder_type",
    "business_unit",
    "department",
    "region",
    "supplier_tier",
    "category",
    "influence",
    "annual_spend",
];

/// A number in [0, 1) that depends only on `text` (FNV-1a): the importance attributes are
/// derived from it rather than drawn from the seeded generator, so adding them left every
/// seeded answer as it was.
fn stable_fraction(text: &str) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// An internal customer's influence on spend (1–5) and the spend they manage per year
/// (EUR), by business unit: Manufacturing and IT weigh most.
fn internal_importance(unit: &str, email: &str) -> (u32, u64) {
    let (influence, spend) = match unit {
        IMPROVING_UNIT => (3.6, 420_000.0),
        FALLING_UNIT => (4.1, 380_000.0),
        "Research & Development" => (3.2, 260_000.0),
        "Sales & Marketing" => (2.6, 140_000.0),
        "Finance" => (2.9, 60_000.0),
        _ => (2.2, 90_000.0),
    };
    let f = stable_fraction(email);
    let g = stable_fraction(&format!("{email}/spend"));
    (
        (influence + 2.4 * (f - 0.5)).round().clamp(1.0, 5.0) as u32,
        (spend * (0.3 + 1.4 * g) / 1000.0).round() as u64 * 1000,
    )
}

/// A supplier's annual spend with the organisation (EUR), by tier.
fn supplier_spend(tier: &str, email: &str) -> u64 {
    let base = match tier {
        "strategic" => 3_200_000.0,
        "preferred" => 900_000.0,
        _ => 180_000.0,
    };
    (base * (0.4 + 1.2 * stable_fraction(email)) / 1000.0).round() as u64 * 1000
}

/// The audience of the internal-customer waves.
pub const INTERNAL_AUDIENCE: &str = "stakeholder_type=internal";
/// The audience of the supplier waves.
pub const SUPPLIER_AUDIENCE: &str = "stakeholder_type=supplier";

impl Organisation {
    /// About 1,500 people: the six business units and [`SUPPLIERS`] suppliers.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut used = HashSet::new();
        let mut people = Vec::new();
        for (unit, spec) in UNITS.iter().enumerate() {
            let (unit_name, size, departments) = (spec.name, &spec.people, spec.departments);
            for i in 0..*size {
                let department = pick_weighted(
                    rng,
                    departments,
                    |d| d.1,
                    // Whole-number split, so tiny departments keep their size on any seed.
                    Some(i as f64 / *size as f64),
                )
                .0;
                let (region, _, german) = *pick_weighted(rng, &REGIONS, |r| r.1, None);
                let language = if rng.gen_bool(german) { "de" } else { "en" };
                let (first, last) = (
                    *FIRST_NAMES.choose(rng).unwrap_or(&"Alex"),
                    *LAST_NAMES.choose(rng).unwrap_or(&"Doe"),
                );
                let email = unique_email(
                    &mut used,
                    &format!("{}.{}", ascii(first), ascii(last)),
                    "example.com",
                );
                let (influence, spend) = internal_importance(unit_name, &email);
                people.push(Person {
                    email,
                    name: format!("{first} {last}"),
                    language,
                    attributes: vec![
                        ("stakeholder_type", "internal".into()),
                        ("business_unit", (*unit_name).into()),
                        ("department", department.into()),
                        ("region", region.into()),
                        ("influence", influence.to_string()),
                        ("annual_spend", spend.to_string()),
                    ],
                    role: Role::Internal { unit },
                    offset: normal(rng, 0.5),
                    propensity: rng.gen_range(-0.12..0.12),
                });
            }
        }
        for _ in 0..SUPPLIERS {
            let company = format!(
                "{} {}",
                SUPPLIER_WORDS.choose(rng).unwrap_or(&"Acme"),
                SUPPLIER_KINDS.choose(rng).unwrap_or(&"Services")
            );
            let (tier, _, tier_mood) = *pick_weighted(rng, &SUPPLIER_TIERS, |t| t.1, None);
            let (region, _, german) = *pick_weighted(rng, &REGIONS, |r| r.1, None);
            let category = *SUPPLIER_CATEGORIES.choose(rng).unwrap_or(&"Components");
            let (first, last) = (
                *FIRST_NAMES.choose(rng).unwrap_or(&"Alex"),
                *LAST_NAMES.choose(rng).unwrap_or(&"Doe"),
            );
            let domain = format!("{}.example.com", ascii(&company).replace(' ', "-"));
            let email = unique_email(
                &mut used,
                &format!("{}.{}", ascii(first), ascii(last)),
                &domain,
            );
            let spend = supplier_spend(tier, &email);
            people.push(Person {
                email,
                name: format!("{first} {last} ({company})"),
                language: if rng.gen_bool(german) { "de" } else { "en" },
                attributes: vec![
                    ("stakeholder_type", "supplier".into()),
                    ("region", region.into()),
                    ("supplier_tier", tier.into()),
                    ("category", category.into()),
                    ("annual_spend", spend.to_string()),
                ],
                role: Role::Supplier { tier_mood },
                offset: normal(rng, 0.5),
                propensity: rng.gen_range(-0.1..0.1),
            });
        }
        Self { people }
    }

    /// The organisation as a stakeholder CSV, for the real import.
    pub fn to_csv(&self) -> String {
        let mut csv = format!("email,name,language,{}\n", ATTRIBUTE_COLUMNS.join(","));
        for person in &self.people {
            let mut cells = vec![
                person.email.clone(),
                quote(&person.name),
                person.language.to_string(),
            ];
            for column in ATTRIBUTE_COLUMNS {
                let value = person
                    .attributes
                    .iter()
                    .find(|(name, _)| *name == column)
                    .map(|(_, value)| quote(value))
                    .unwrap_or_default();
                cells.push(value);
            }
            csv.push_str(&cells.join(","));
            csv.push('\n');
        }
        csv
    }

    pub fn internal_count(&self) -> usize {
        self.people
            .iter()
            .filter(|p| matches!(p.role, Role::Internal { .. }))
            .count()
    }
}

/// The business unit names, in the model's order.
pub fn unit_names() -> Vec<&'static str> {
    UNITS.iter().map(|u| u.name).collect()
}

/// Which wave of which survey is being answered.
#[derive(Debug, Clone, Copy)]
pub struct WaveContext {
    /// 0 for the oldest internal-customer wave; for the supplier survey its own count.
    pub index: usize,
    pub supplier: bool,
}

/// The mean satisfaction of a person's group in a wave.
fn mood(person: &Person, wave: WaveContext) -> f64 {
    match person.role {
        Role::Internal { unit } => {
            let unit = &UNITS[unit];
            unit.mood + (unit.drift + 0.03) * wave.index as f64
        }
        Role::Supplier { tier_mood } => tier_mood + 0.04 * wave.index as f64,
    }
}

/// How a dimension moves from wave to wave, beyond the group's mood: suppliers find
/// payment slower every half-year (while internal customers rate procurement's
/// timeliness as before), and customer-of-choice lags the rest.
fn wave_bias(dimension: &str, wave: WaveContext) -> f64 {
    match (wave.supplier, dimension) {
        (true, "payment") => -0.25 - 0.12 * wave.index as f64,
        (true, "customer_of_choice") => -0.15,
        _ => 0.0,
    }
}

/// The probability that a person answers a wave at all (45–75 % per group).
pub fn response_probability(person: &Person, wave: WaveContext) -> f64 {
    let base = match person.role {
        Role::Internal { unit } => UNITS[unit].response_rate,
        Role::Supplier { .. } => 0.58,
    };
    // A little wave-to-wave variation, the same for everyone in the wave.
    let wave_shift = [0.0, 0.03, -0.02, 0.04, 0.01][wave.index % 5];
    (base + wave_shift + person.propensity).clamp(0.2, 0.95)
}

/// Hours after opening at which an answer arrives: most in the first week, the rest after
/// the reminders at 7 and 14 days.
pub fn response_delay_hours(rng: &mut impl Rng) -> i64 {
    let roll: f64 = rng.gen();
    let week = if roll < 0.58 {
        0
    } else if roll < 0.87 {
        1
    } else {
        2
    };
    week * 7 * 24 + rng.gen_range(1..7 * 24 - 1)
}

/// A respondent's answers to `definition`, as the form would post them: (field, value) pairs.
pub fn answer_form(
    rng: &mut impl Rng,
    definition: &SurveyDefinition,
    person: &Person,
    wave: WaveContext,
) -> Vec<(String, String)> {
    let s = mood(person, wave) + person.offset + normal(rng, 0.45);
    let german = person.language == "de" && definition.languages().contains(&"de");
    let mut fields = Vec::new();
    let mut picked_pain = Vec::new();
    for question in &definition.questions {
        match question {
            Question::Nps(q) => {
                let value = (7.4 + 1.9 * s + normal(rng, 1.0)).round().clamp(0.0, 10.0);
                fields.push((q.key.clone(), format!("{value}")));
            }
            Question::Likert(q) => {
                if q.allow_not_applicable && rng.gen_bool(0.06) {
                    fields.push((q.key.clone(), "na".into()));
                    continue;
                }
                let on_five = 3.3
                    + 0.85 * s
                    + dimension_bias(&q.dimension)
                    + wave_bias(&q.dimension, wave)
                    + normal(rng, 0.75);
                let scale = f64::from(q.scale.max(2));
                let value = (1.0 + (on_five - 1.0) * (scale - 1.0) / 4.0)
                    .round()
                    .clamp(1.0, scale);
                fields.push((q.key.clone(), format!("{value}")));
            }
            Question::PainPoints(q) => {
                let mut ticked: Vec<&str> = q
                    .options
                    .iter()
                    .filter(|o| {
                        let p = pain_base(&o.key, wave) * (1.0 - 0.35 * s);
                        rng.gen_bool(p.clamp(0.0, 0.95))
                    })
                    .map(|o| o.key.as_str())
                    .collect();
                let max = q.max_choices.map_or(usize::MAX, |m| m as usize);
                if ticked.len() > max {
                    ticked.shuffle(rng);
                    ticked.truncate(max);
                }
                for key in ticked {
                    picked_pain.push(key.to_string());
                    fields.push((q.key.clone(), key.to_string()));
                }
            }
            Question::Choice(q) => {
                const WEIGHTS: [f64; 6] = [0.24, 0.36, 0.28, 0.12, 0.1, 0.1];
                let index = pick_index(rng, q.options.len(), |i| WEIGHTS[i.min(5)]);
                if let Some(option) = q.options.get(index) {
                    fields.push((q.key.clone(), option.key.clone()));
                }
            }
            Question::Text(q) => {
                if rng.gen_bool(0.2) {
                    let comment = comment(rng, s, &picked_pain, wave.supplier, german);
                    let comment: String = comment.chars().take(q.max_length as usize).collect();
                    fields.push((q.key.clone(), comment));
                }
            }
        }
    }
    fields
}

/// Per-dimension offsets: communication and ease are procurement's weak spots.
fn dimension_bias(dimension: &str) -> f64 {
    match dimension {
        "understanding_needs" => 0.15,
        "alignment" => -0.05,
        "communication" => -0.3,
        "responsiveness" => -0.1,
        "ease" => -0.35,
        "policy_clarity" => 0.05,
        "partnership" => -0.15,
        "payment" => -0.4,
        "forecasting" => -0.3,
        _ => 0.0,
    }
}

/// How likely an option is ticked by an average respondent in a wave.
fn pain_base(option: &str, wave: WaveContext) -> f64 {
    let w = wave.index.min(4);
    match option {
        FADING_PAIN_POINT => [0.46, 0.38, 0.29, 0.21, 0.15][w],
        GROWING_PAIN_POINT => [0.07, 0.14, 0.23, 0.33, 0.41][w],
        "chasing_for_updates" => 0.22,
        "ordering_system" => 0.17,
        "slow_sourcing" => 0.14,
        "no_catalogue_or_contract" => 0.12,
        "policy_unclear" => 0.11,
        "unclear_contact" => 0.09,
        "contract_turnaround" => 0.09,
        "late_or_wrong_delivery" => 0.07,
        "late_supplier_payments" => 0.06,
        "unsuitable_suppliers" => 0.05,
        // The supplier survey.
        "late_payment" => 0.34,
        "slow_onboarding" => 0.27,
        "too_many_portals" => 0.22,
        "short_notice_orders" => 0.18,
        "silence_after_quoting" => 0.16,
        "invoice_rejections" => 0.14,
        "unclear_requirements" => 0.12,
        "repeated_questionnaires" => 0.1,
        _ => 0.06,
    }
}

/// A comment from the phrase bank, fitting the respondent's mood and pain points.
fn comment(rng: &mut impl Rng, s: f64, pain: &[String], supplier: bool, german: bool) -> String {
    let has = |key: &str| pain.iter().any(|p| p == key);
    let bank: &[(&str, &str)] = if supplier {
        if has("late_payment") {
            &SUPPLIER_PAYMENT
        } else if s > 0.3 {
            &SUPPLIER_POSITIVE
        } else {
            &SUPPLIER_GENERAL
        }
    } else if has(FADING_PAIN_POINT) && rng.gen_bool(0.6) {
        &APPROVALS
    } else if has(GROWING_PAIN_POINT) && rng.gen_bool(0.7) {
        &ONBOARDING
    } else if s > 0.4 {
        &POSITIVE
    } else if has("chasing_for_updates") {
        &CHASING
    } else {
        &GENERAL
    };
    let (en, de) = *bank.choose(rng).unwrap_or(&("Keep going.", "Weiter so."));
    if german { de } else { en }.to_string()
}

const APPROVALS: [(&str, &str); 4] = [
    (
        "Approvals for small purchases still take weeks. Please raise the limits for low-risk spend.",
        "Freigaben für kleine Bestellungen dauern immer noch Wochen. Bitte die Grenzen für risikoarme Ausgaben anheben.",
    ),
    (
        "Stop routing every order through three approvers; one should be enough below 10k.",
        "Bitte nicht jede Bestellung über drei Freigebende schicken, unter 10.000 sollte einer reichen.",
    ),
    (
        "We lost a supplier slot because the approval sat in someone's inbox for twelve days.",
        "Wir haben einen Liefertermin verloren, weil die Freigabe zwölf Tage in einem Postfach lag.",
    ),
    (
        "Show me where my approval is stuck, and who has to act.",
        "Zeigen Sie mir, wo meine Freigabe hängt und wer handeln muss.",
    ),
];

const ONBOARDING: [(&str, &str); 4] = [
    (
        "Setting up a new supplier took two months. By then the project had moved on.",
        "Die Anlage eines neuen Lieferanten hat zwei Monate gedauert. Da war das Projekt schon weiter.",
    ),
    (
        "Start a fast track for onboarding one-off suppliers; the full questionnaire is overkill.",
        "Bitte einen schnellen Weg für einmalige Lieferanten einführen; der volle Fragebogen ist übertrieben.",
    ),
    (
        "Supplier onboarding is the bottleneck now: approvals got faster, onboarding got slower.",
        "Die Lieferantenanlage ist jetzt der Engpass: Freigaben gehen schneller, die Anlage dauert länger.",
    ),
    (
        "Nobody could tell me the status of the new supplier set-up for weeks.",
        "Wochenlang konnte mir niemand sagen, wie weit die Anlage des neuen Lieferanten ist.",
    ),
];

const CHASING: [(&str, &str); 3] = [
    (
        "I always have to chase for updates. A simple status email would help a lot.",
        "Ich muss immer nachfragen. Eine kurze Status-Mail würde sehr helfen.",
    ),
    (
        "Please tell us when a request is stuck instead of going quiet.",
        "Bitte Bescheid geben, wenn eine Anfrage hängt, statt sich nicht zu melden.",
    ),
    (
        "Keep the ticket updated; I should not need to call to find out where things are.",
        "Bitte das Ticket aktuell halten; ich sollte nicht anrufen müssen, um den Stand zu erfahren.",
    ),
];

const POSITIVE: [(&str, &str); 4] = [
    (
        "Keep the category managers close to us; our buyer knows our market better than we do.",
        "Die Category Manager bitte nah bei uns lassen; unser Einkäufer kennt unseren Markt besser als wir.",
    ),
    (
        "The new framework contracts save us a lot of time. Keep doing this.",
        "Die neuen Rahmenverträge sparen uns viel Zeit. Bitte weiter so.",
    ),
    (
        "Very responsive team, thank you for the quick help with the urgent order.",
        "Sehr reaktionsschnelles Team, danke für die schnelle Hilfe bei der Eilbestellung.",
    ),
    (
        "Procurement helped us renegotiate and saved the project budget. Great partnership.",
        "Der Einkauf hat nachverhandelt und unser Projektbudget gerettet. Tolle Zusammenarbeit.",
    ),
];

const GENERAL: [(&str, &str); 4] = [
    (
        "The ordering system is hard to use for anything that is not in the catalogue.",
        "Das Bestellsystem ist für alles außerhalb des Katalogs schwer zu bedienen.",
    ),
    (
        "Make the purchasing policy shorter and put it where people can find it.",
        "Die Einkaufsrichtlinie bitte kürzen und dort ablegen, wo man sie findet.",
    ),
    (
        "Involve us earlier in sourcing decisions that affect our team.",
        "Bitte uns früher in Vergabeentscheidungen einbinden, die unser Team betreffen.",
    ),
    (
        "A named contact person per business unit would make things much easier.",
        "Ein fester Ansprechpartner pro Geschäftsbereich würde vieles einfacher machen.",
    ),
];

const SUPPLIER_PAYMENT: [(&str, &str); 2] = [
    (
        "Invoices are paid 30 days late on average. For a small company this hurts.",
        "Rechnungen werden im Schnitt 30 Tage zu spät bezahlt. Für ein kleines Unternehmen tut das weh.",
    ),
    (
        "Invoices get rejected for missing PO numbers we were never given.",
        "Rechnungen werden wegen fehlender Bestellnummern abgelehnt, die wir nie bekommen haben.",
    ),
];

const SUPPLIER_POSITIVE: [(&str, &str); 2] = [
    (
        "Clear forecasts this year helped us plan capacity. Thank you.",
        "Die klaren Prognosen in diesem Jahr haben uns bei der Kapazitätsplanung geholfen. Danke.",
    ),
    (
        "Fair and transparent tenders; we know why we won or lost.",
        "Faire und transparente Ausschreibungen; wir wissen, warum wir gewonnen oder verloren haben.",
    ),
];

const SUPPLIER_GENERAL: [(&str, &str); 2] = [
    (
        "Too many portals: one for registration, one for orders, one for invoices.",
        "Zu viele Portale: eines für die Registrierung, eines für Bestellungen, eines für Rechnungen.",
    ),
    (
        "After we send a quote we often hear nothing for weeks.",
        "Nach einem Angebot hören wir oft wochenlang nichts.",
    ),
];

/// A normal draw with mean 0 (Box–Muller: `rand` alone has no normal distribution).
pub fn normal(rng: &mut impl Rng, sd: f64) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Picks an item by weight; with `at` (a fraction in [0, 1)) the pick is by position
/// instead of a random draw.
fn pick_weighted<'a, T>(
    rng: &mut impl Rng,
    items: &'a [T],
    weight: impl Fn(&T) -> f64,
    at: Option<f64>,
) -> &'a T {
    let index = match at {
        Some(at) => {
            let total: f64 = items.iter().map(&weight).sum();
            let mut acc = 0.0;
            items
                .iter()
                .position(|item| {
                    acc += weight(item) / total;
                    at < acc
                })
                .unwrap_or(items.len().saturating_sub(1))
        }
        None => pick_index(rng, items.len(), |i| weight(&items[i])),
    };
    &items[index]
}

fn pick_index(rng: &mut impl Rng, len: usize, weight: impl Fn(usize) -> f64) -> usize {
    let total: f64 = (0..len).map(&weight).sum();
    let mut roll = rng.gen::<f64>() * total;
    for i in 0..len {
        roll -= weight(i);
        if roll < 0.0 {
            return i;
        }
    }
    len.saturating_sub(1)
}

/// `first.last@domain`, with a number added when taken.
fn unique_email(used: &mut HashSet<String>, local: &str, domain: &str) -> String {
    let mut candidate = format!("{local}@{domain}");
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{local}{n}@{domain}");
        n += 1;
    }
    candidate
}

/// Lower-case ASCII for email addresses: `Jürgen` → `juergen`.
fn ascii(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() || c == ' ' || c == '-' => out.push(c),
            _ => {}
        }
    }
    out
}

/// A CSV cell, quoted when it needs to be.
fn quote(value: &str) -> String {
    if value.contains([',', '"', ';']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn the_organisation_is_about_1500_people_and_reproducible() {
        let a = Organisation::generate(&mut StdRng::seed_from_u64(1));
        let b = Organisation::generate(&mut StdRng::seed_from_u64(1));
        assert_eq!(a.people.len(), 1500);
        assert_eq!(a.internal_count(), 1400);
        assert_eq!(a.to_csv(), b.to_csv());
        let audit = a
            .people
            .iter()
            .filter(|p| p.attributes.iter().any(|(_, v)| v == "Internal Audit"))
            .count();
        assert_eq!(audit, 4);
    }

    #[test]
    fn moods_drift_in_the_intended_directions() {
        let org = Organisation::generate(&mut StdRng::seed_from_u64(2));
        let of_unit = |name: &str| {
            org.people
                .iter()
                .find(|p| p.attributes.iter().any(|(_, v)| v == name))
                .unwrap()
                .clone()
        };
        let wave = |index| WaveContext {
            index,
            supplier: false,
        };
        let (up, down) = (of_unit(IMPROVING_UNIT), of_unit(FALLING_UNIT));
        assert!(mood(&up, wave(4)) > mood(&up, wave(0)) + 0.8);
        assert!(mood(&down, wave(4)) < mood(&down, wave(0)) - 0.6);
        assert!(pain_base(FADING_PAIN_POINT, wave(0)) > pain_base(GROWING_PAIN_POINT, wave(0)));
        assert!(pain_base(FADING_PAIN_POINT, wave(4)) < pain_base(GROWING_PAIN_POINT, wave(4)));
    }

    #[test]
    fn normal_draws_have_the_asked_spread() {
        let mut rng = StdRng::seed_from_u64(3);
        let draws: Vec<f64> = (0..20_000).map(|_| normal(&mut rng, 2.0)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.05, "{mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.05, "{var}");
    }
}
