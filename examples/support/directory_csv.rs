//! The generated directory the benchmarks share: realistic names (some not ASCII), a
//! language, and 6 attributes — business unit, department, region, country, site and a
//! cost centre with ~9,000 distinct values. Seeded, so every run gets the same file.

use std::path::Path;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const FIRST_NAMES: &[&str] = &[
    "Anna", "Jörg", "Zoë", "Mohammed", "Li", "Sofia", "Lukas", "Emma", "Mateo", "Aiko", "Olivia",
    "Noah", "Chloé", "Ingrid", "Pedro", "Fatima", "Sven", "Priya", "Tomasz", "Grace",
];
const LAST_NAMES: &[&str] = &[
    "Berg", "Müller", "Nguyen", "García", "Smith", "Kowalski", "Rossi", "Tanaka", "O'Brien",
    "Jensen", "Dubois", "Silva", "Novak", "Ivanova", "Haddad", "Kumar", "Svensson", "Okafor",
];
const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "pt-BR", "it", "nl", "pl", "ja", ""];
const BUSINESS_UNITS: &[(&str, &[&str])] = &[
    (
        "Manufacturing",
        &["Plant Operations", "Quality", "Maintenance", "Engineering"],
    ),
    (
        "R&D",
        &["Labs", "Product Development", "Regulatory Affairs"],
    ),
    ("Finance", &["Controlling", "Treasury", "Accounts Payable"]),
    (
        "Sales",
        &["Sales, Marketing", "Key Accounts", "Customer Service"],
    ),
    (
        "Corporate",
        &["HR", "Legal; Compliance", "IT", "Facilities"],
    ),
    ("Logistics", &["Warehousing", "Transport", "Customs"]),
];
const SITES: &[(&str, &str, &str)] = &[
    ("EMEA", "Germany", "Stuttgart"),
    ("EMEA", "Germany", "Hamburg"),
    ("EMEA", "France", "Lyon"),
    ("EMEA", "Poland", "Wrocław"),
    ("EMEA", "United Kingdom", "Manchester"),
    ("NA", "United States", "Chicago"),
    ("NA", "United States", "Austin"),
    ("NA", "Canada", "Toronto"),
    ("APAC", "Japan", "Osaka"),
    ("APAC", "India", "Pune"),
    ("LATAM", "Brazil", "São Paulo"),
    ("LATAM", "Mexico", "Monterrey"),
];

/// Writes the initial directory and a copy in which every 10th row changed (department,
/// name or language); returns the number of changed rows.
pub fn write_directory(initial: &Path, changed: &Path, rows: usize) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(2026);
    let header = [
        "email",
        "name",
        "language",
        "business_unit",
        "department",
        "region",
        "country",
        "site",
        "cost_center",
    ];
    let mut first = csv::Writer::from_path(initial)?;
    let mut second = csv::Writer::from_path(changed)?;
    first.write_record(header)?;
    second.write_record(header)?;
    let mut changed_rows = 0;
    for i in 0..rows {
        let given = pick(&mut rng, FIRST_NAMES);
        let family = pick(&mut rng, LAST_NAMES);
        let email = format!(
            "{}.{}.{i}@example-corp.com",
            ascii_lower(given),
            ascii_lower(family)
        );
        let name = format!("{given} {family}");
        let language = pick(&mut rng, LANGUAGES);
        let (unit, departments) = *BUSINESS_UNITS
            .choose(&mut rng)
            .context("there are business units")?;
        let department = pick(&mut rng, departments);
        let (region, country, site) = *SITES.choose(&mut rng).context("there are sites")?;
        let cost_center = format!("CC-{:04}", rng.gen_range(1000..10_000));
        let mut record = [
            email,
            name,
            language.to_string(),
            unit.to_string(),
            department.to_string(),
            region.to_string(),
            country.to_string(),
            site.to_string(),
            cost_center,
        ];
        first.write_record(&record)?;
        if i % 10 == 0 {
            changed_rows += 1;
            match i % 30 {
                0 => record[4] = format!("{} (reorganised)", record[4]),
                10 => record[1] = format!("{given} {family}-Lund"),
                _ => record[2] = if language == "de" { "en" } else { "de" }.to_string(),
            }
        }
        second.write_record(&record)?;
    }
    first.flush()?;
    second.flush()?;
    Ok(changed_rows)
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// An email-safe version of a name: ASCII letters only.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase()
}
