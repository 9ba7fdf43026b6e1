//! The stakeholder directory through the real `pulse` binary: `stakeholders import` (all or
//! nothing, upsert, dry run, deactivation) and `stakeholders list --filter`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use pulse::db;
use pulse::db::models::stakeholders::{self, StakeholderRow};
use pulse::domain::audience::AudienceFilter;
use pulse::services::stakeholders::directory::{self, DirectoryQuery, StateFilter};

use crate::both_backends;
use crate::helpers::{run_cli, text, Backend, TestDb};

/// A fresh database plus shortcuts for importing files and reading the table.
struct Directory {
    db: TestDb,
    pool: db::Pool,
}

impl Directory {
    fn new(backend: Backend) -> Self {
        let db = TestDb::new(backend);
        let pool = db::connect(&db.url).unwrap();
        db::run_migrations(&mut pool.get().unwrap()).unwrap();
        Self { db, pool }
    }

    fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.db.raw_url, self.db.dir.path(), args, None)
    }

    /// Writes `content` to a file and runs `pulse stakeholders import FILE EXTRA...`.
    fn import(&self, content: &[u8], extra: &[&str]) -> Output {
        let path = self.db.dir.path().join("stakeholders.csv");
        std::fs::write(&path, content).unwrap();
        let path = path.to_str().unwrap().to_string();
        let mut args = vec!["stakeholders", "import", path.as_str()];
        args.extend_from_slice(extra);
        self.cli(&args)
    }

    /// Imports and asserts success; returns stdout.
    fn import_ok(&self, content: &str, extra: &[&str]) -> String {
        let output = self.import(content.as_bytes(), extra);
        assert!(
            output.status.success(),
            "import failed ({}):\n{}{}",
            output.status,
            text(&output.stderr),
            text(&output.stdout)
        );
        text(&output.stdout)
    }

    fn conn(&self) -> db::PooledConn {
        self.pool.get().unwrap()
    }

    fn rows(&self) -> Vec<StakeholderRow> {
        stakeholders::load_all(&mut self.conn()).unwrap()
    }

    /// When the stakeholder was created and last written (`StakeholderRow` leaves them out:
    /// the product never shows them).
    fn stamps(&self, email: &str) -> (NaiveDateTime, NaiveDateTime) {
        use pulse::db::schema::stakeholders::dsl;
        dsl::stakeholders
            .filter(dsl::email.eq(email))
            .select((dsl::created_at, dsl::updated_at))
            .first(&mut self.conn())
            .unwrap()
    }

    fn row(&self, email: &str) -> StakeholderRow {
        stakeholders::find_by_email(&mut self.conn(), email)
            .unwrap()
            .unwrap_or_else(|| panic!("{email} is not in the directory"))
    }
}

fn attributes(row: &StakeholderRow) -> BTreeMap<String, String> {
    serde_json::from_str(&row.attributes).unwrap()
}

/// The counted values (`attribute_values`, which the filter controls offer) are a recount of
/// every stored stakeholder's attributes, active or not.
fn assert_values_counted(directory: &Directory) {
    let mut recount: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in directory.rows() {
        for (name, value) in attributes(&row) {
            *recount.entry((name, value)).or_default() += 1;
        }
    }
    let counted: BTreeMap<(String, String), i64> =
        stakeholders::attribute_values(&mut directory.conn())
            .unwrap()
            .into_iter()
            .map(|(name, value, people)| ((name, value), people))
            .collect();
    assert_eq!(counted, recount);
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Asserts the five count lines of the import output.
fn assert_counts(
    stdout: &str,
    created: usize,
    updated: usize,
    unchanged: usize,
    reactivated: usize,
    deactivated: usize,
) {
    for (label, expected) in [
        ("created", created),
        ("updated", updated),
        ("unchanged", unchanged),
        ("reactivated", reactivated),
        ("deactivated", deactivated),
    ] {
        let line = format!("{label}: {expected}\n");
        assert!(stdout.contains(&line), "expected {line:?} in:\n{stdout}");
    }
}

const DIRECTORY_CSV: &str = "\
email,name,language,business_unit,department,region
anna.berg@Example.COM,Anna Berg,de,Manufacturing,Plant Operations,EMEA
bob@example.com,Bob Stone,en-gb,R&D,,NA
carla@example.com,,,Finance,Controlling,
";

async fn import_stores_stakeholders_with_attributes(backend: Backend) {
    let directory = Directory::new(backend);

    let stdout = directory.import_ok(DIRECTORY_CSV, &[]);

    assert!(
        stdout.contains("3 stakeholders, attributes: business_unit, department, region"),
        "{stdout}"
    );
    assert_counts(&stdout, 3, 0, 0, 0, 0);
    let rows = directory.rows();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.active));

    let anna = directory.row("anna.berg@example.com");
    assert_eq!(anna.name.as_deref(), Some("Anna Berg"));
    assert_eq!(anna.language.as_deref(), Some("de"));
    assert_eq!(
        attributes(&anna),
        map(&[
            ("business_unit", "Manufacturing"),
            ("department", "Plant Operations"),
            ("region", "EMEA")
        ])
    );
    assert!(uuid::Uuid::parse_str(&anna.id).is_ok());

    let bob = directory.row("bob@example.com");
    assert_eq!(bob.language.as_deref(), Some("en-GB"));
    assert_eq!(
        attributes(&bob),
        map(&[("business_unit", "R&D"), ("region", "NA")]),
        "an empty cell is no value"
    );

    let carla = directory.row("carla@example.com");
    assert_eq!(carla.name, None);
    assert_eq!(carla.language, None);
    assert_eq!(
        attributes(&carla),
        map(&[("business_unit", "Finance"), ("department", "Controlling")])
    );
}

async fn every_bad_row_class_rejects_the_whole_file(backend: Backend) {
    let directory = Directory::new(backend);
    let good = "anna@example.com,Anna,en\nbob@example.com,Bob,de\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "invalid email",
            format!("email,name,language\n{good}anna@,Anna B,en\n").into_bytes(),
            "line 4, column \"email\": 'anna@' is not a valid email address",
        ),
        (
            "empty email",
            format!("email,name,language\n{good} ,Nobody,en\n").into_bytes(),
            "line 4, column \"email\": the email address is empty",
        ),
        (
            "duplicate email",
            format!("email,name,language\n{good}ANNA@example.com,Anna again,en\n").into_bytes(),
            "line 4, column \"email\": 'ANNA@example.com' is also on line 2",
        ),
        (
            "line break in a field",
            format!("email,name,language\n{good}carl@example.com,\"Carl\nSmith\",en\n")
                .into_bytes(),
            "line 4, column \"name\": the value contains a line break",
        ),
        (
            "carriage return in a field",
            format!("email,name,language\n{good}carl@example.com,\"Carl\rSmith\",en\n")
                .into_bytes(),
            "line 4, column \"name\": the value contains a line break",
        ),
        (
            "too few fields",
            format!("email,name,language\n{good}carl@example.com,Carl\n").into_bytes(),
            "line 4: 2 fields, but the header has 3",
        ),
        (
            "too many fields",
            format!("email,name,language\n{good}carl@example.com,Smith, Carl,en\n").into_bytes(),
            "line 4: 4 fields, but the header has 3",
        ),
        (
            "missing email column",
            format!("mail,name,language\n{good}").into_bytes(),
            "line 1: there is no \"email\" column (the header has: mail, name, language)",
        ),
        (
            "invalid language",
            format!("email,name,language\n{good}carl@example.com,Carl,english\n").into_bytes(),
            "line 4, column \"language\": 'english' is not a language code",
        ),
        (
            "invalid attribute header",
            format!("email,name,language,Région\n{}", good.replace('\n', ",x\n")).into_bytes(),
            "line 1, column \"Région\": 'région' is not a valid attribute name",
        ),
        (
            "duplicated header",
            format!("email,name,Name\n{good}").into_bytes(),
            "line 1, column \"Name\": name is also column 2",
        ),
        (
            "invalid UTF-8 (Windows-1252)",
            [
                b"email,name,language\n".as_slice(),
                good.as_bytes(),
                b"jorg@example.de,J\xF6rg,de\n",
            ]
            .concat(),
            "line 4, column \"name\": the text is not valid UTF-8",
        ),
    ];

    for (class, content, expected) in cases {
        let output = directory.import(&content, &[]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{class}: accepted");
        assert!(
            stderr.contains(expected),
            "{class}: expected {expected:?} in:\n{stderr}"
        );
        assert!(stderr.contains("nothing was imported"), "{class}: {stderr}");
        assert!(
            directory.rows().is_empty(),
            "{class}: the good rows were imported too"
        );
    }
}

async fn all_problems_of_a_file_are_listed_at_once(backend: Backend) {
    let directory = Directory::new(backend);
    let output = directory.import(
        b"email;name;language;region\n\
          anna@example.com;Anna;en;EMEA\n\
          anna@;Anna B;de;EMEA\n\
          ;No Mail;;\n\
          anna@example.com;Anna again;;\n\
          carl@example.com;Carl;english;\n\
          dora@example.com;Dora;en\n",
        &[],
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("5 problems found, so nothing was imported"),
        "{stderr}"
    );
    for expected in [
        "line 3, column \"email\": 'anna@' is not a valid email address",
        "line 4, column \"email\": the email address is empty",
        "line 5, column \"email\": 'anna@example.com' is also on line 2",
        "line 6, column \"language\": 'english' is not a language code",
        "line 7: 3 fields, but the header has 4",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in:\n{stderr}"
        );
    }
    assert!(directory.rows().is_empty());
}

async fn semicolon_file_with_bom_and_crlf_is_read(backend: Backend) {
    let directory = Directory::new(backend);
    let mut content = b"\xEF\xBB\xBF".to_vec();
    content.extend_from_slice(
        " Email ;Name;Language;Business Unit;Kostenstelle\r\n\
         jörg.müller@beispiel.de;Jörg Müller;de-DE;Einkauf;4711\r\n\
         \r\n\
         zoë@example.com;Zoë;fr;R&D;\r\n"
            .as_bytes(),
    );

    let output = directory.import(&content, &[]);

    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("attributes: business_unit, kostenstelle"),
        "{stdout}"
    );
    assert_counts(&stdout, 2, 0, 0, 0, 0);
    let jorg = directory.row("jörg.müller@beispiel.de");
    assert_eq!(jorg.name.as_deref(), Some("Jörg Müller"));
    assert_eq!(jorg.language.as_deref(), Some("de-DE"));
    assert_eq!(
        attributes(&jorg),
        map(&[("business_unit", "Einkauf"), ("kostenstelle", "4711")])
    );
    assert_eq!(
        attributes(&directory.row("zoë@example.com")),
        map(&[("business_unit", "R&D")])
    );
}

async fn quoted_fields_keep_delimiters_and_quotes(backend: Backend) {
    let directory = Directory::new(backend);
    let stdout = directory.import_ok(
        "email,name,department,team\n\
         \"anna@example.com\",\"Berg, Anna\",\"Sales, Marketing\",\"The \"\"A\"\" Team\"\n\
         bob@example.com,Bob,\"Legal; Compliance\",\n",
        &[],
    );
    assert_counts(&stdout, 2, 0, 0, 0, 0);
    let anna = directory.row("anna@example.com");
    assert_eq!(anna.name.as_deref(), Some("Berg, Anna"));
    assert_eq!(
        attributes(&anna),
        map(&[
            ("department", "Sales, Marketing"),
            ("team", "The \"A\" Team")
        ])
    );
    assert_eq!(
        attributes(&directory.row("bob@example.com")),
        map(&[("department", "Legal; Compliance")])
    );
}

async fn a_second_import_updates_in_place(backend: Backend) {
    let directory = Directory::new(backend);
    directory.import_ok(DIRECTORY_CSV, &[]);
    assert_values_counted(&directory);
    let before: BTreeMap<String, (StakeholderRow, (NaiveDateTime, NaiveDateTime))> = directory
        .rows()
        .into_iter()
        .map(|r| (r.email.clone(), (r.clone(), directory.stamps(&r.email))))
        .collect();

    let stdout = directory.import_ok(
        "email,name,language,business_unit,department,region\n\
         anna.berg@example.com,Anna Berg-Lund,de,Manufacturing,Plant Operations,EMEA\n\
         bob@example.com,Bob Stone,en-GB,R&D,Labs,NA\n\
         carla@example.com,,,Finance,Controlling,\n\
         dan@example.com,Dan,,Finance,,APAC\n",
        &[],
    );

    assert_counts(&stdout, 1, 2, 1, 0, 0);
    assert_values_counted(&directory);
    let rows = directory.rows();
    assert_eq!(rows.len(), 4);
    for email in [
        "anna.berg@example.com",
        "bob@example.com",
        "carla@example.com",
    ] {
        let row = directory.row(email);
        assert_eq!(row.id, before[email].0.id, "{email} keeps its id");
        assert_eq!(directory.stamps(email).0, before[email].1 .0, "created at");
    }
    let anna = directory.row("anna.berg@example.com");
    assert_eq!(anna.name.as_deref(), Some("Anna Berg-Lund"));
    assert!(directory.stamps("anna.berg@example.com").1 > before["anna.berg@example.com"].1 .1);
    assert_eq!(
        attributes(&directory.row("bob@example.com")),
        map(&[
            ("business_unit", "R&D"),
            ("department", "Labs"),
            ("region", "NA")
        ])
    );
    assert_eq!(
        directory.stamps("carla@example.com").1,
        before["carla@example.com"].1 .1,
        "an unchanged row is not written"
    );

    // A file with fewer columns changes only those; an email in another case is the same
    // stakeholder and its stored spelling follows the file.
    let stdout = directory.import_ok(
        "email,region\nAnna.Berg@example.com,NORDICS\ncarla@example.com,\n",
        &[],
    );
    assert_counts(&stdout, 0, 1, 1, 0, 0);
    assert_values_counted(&directory);
    let anna_again = directory.row("Anna.Berg@example.com");
    assert_eq!(anna_again.id, anna.id);
    assert_eq!(anna_again.name.as_deref(), Some("Anna Berg-Lund"));
    assert_eq!(anna_again.language.as_deref(), Some("de"));
    assert_eq!(
        attributes(&anna_again),
        map(&[
            ("business_unit", "Manufacturing"),
            ("department", "Plant Operations"),
            ("region", "NORDICS")
        ])
    );
    assert_eq!(directory.rows().len(), 4);
}

async fn dry_run_reports_the_counts_and_writes_nothing(backend: Backend) {
    let directory = Directory::new(backend);
    directory.import_ok(DIRECTORY_CSV, &[]);
    // Each row with when it was created and last written.
    let stored = || -> Vec<_> {
        directory
            .rows()
            .into_iter()
            .map(|r| {
                let stamps = directory.stamps(&r.email);
                (r, stamps)
            })
            .collect()
    };
    let before = stored();

    let stdout = directory.import_ok(
        "email,name,language,business_unit,department,region\n\
         anna.berg@example.com,Anna Berg-Lund,de,Manufacturing,Plant Operations,EMEA\n\
         bob@example.com,Bob Stone,en-GB,R&D,,NA\n\
         dan@example.com,Dan,,Finance,,APAC\n\
         eve@example.com,Eve,,Finance,,APAC\n",
        &["--dry-run", "--deactivate-missing"],
    );

    assert!(stdout.contains("dry run: nothing was changed"), "{stdout}");
    assert_counts(&stdout, 2, 1, 1, 0, 1);
    let after = stored();
    assert_eq!(after.len(), before.len());
    for ((a, a_stamps), (b, b_stamps)) in before.iter().zip(&after) {
        assert_eq!(
            (&a.id, &a.email, &a.name, &a.attributes, a.active, a_stamps),
            (&b.id, &b.email, &b.name, &b.attributes, b.active, b_stamps)
        );
    }

    // A dry run of a bad file lists its problems like the real import.
    let output = directory.import(b"email\nanna@\n", &["--dry-run"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("line 2, column \"email\""));
}

async fn deactivate_missing_keeps_history_and_reimport_reactivates(backend: Backend) {
    let directory = Directory::new(backend);
    directory.import_ok(DIRECTORY_CSV, &[]);

    // Without the flag, missing stakeholders stay active.
    let stdout = directory.import_ok("email\nbob@example.com\n", &[]);
    assert_counts(&stdout, 0, 0, 1, 0, 0);
    assert_eq!(
        stakeholders::count_active(&mut directory.conn()).unwrap(),
        3
    );

    let stdout = directory.import_ok(
        "email\nbob@example.com\ncarla@example.com\n",
        &["--deactivate-missing"],
    );
    assert_counts(&stdout, 0, 0, 2, 0, 1);
    let anna = directory.row("anna.berg@example.com");
    assert!(!anna.active, "deactivated");
    assert_eq!(anna.name.as_deref(), Some("Anna Berg"), "but kept");
    assert_eq!(directory.rows().len(), 3);
    assert_eq!(
        stakeholders::count_active(&mut directory.conn()).unwrap(),
        2
    );

    let listed = text(&directory.cli(&["stakeholders", "list"]).stdout);
    assert!(!listed.contains("anna.berg@example.com"), "{listed}");
    assert!(listed.contains("2 active stakeholders"), "{listed}");
    let listed = text(&directory.cli(&["stakeholders", "list", "--all"]).stdout);
    let anna_line = listed
        .lines()
        .find(|l| l.starts_with("anna.berg@example.com"))
        .unwrap_or_else(|| panic!("anna is listed with --all:\n{listed}"));
    assert!(anna_line.contains("inactive"), "{anna_line}");

    // Importing her again reactivates her (same id); the others are unchanged.
    let stdout = directory.import_ok(DIRECTORY_CSV, &["--deactivate-missing"]);
    assert_counts(&stdout, 0, 0, 2, 1, 0);
    let again = directory.row("anna.berg@example.com");
    assert!(again.active);
    assert_eq!(again.id, anna.id);
}

async fn list_filters_by_attributes(backend: Backend) {
    let directory = Directory::new(backend);
    directory.import_ok(
        "email,name,language,business_unit,region,department\n\
         anna@example.com,Anna,de,Manufacturing,EMEA,Plant\n\
         bob@example.com,Bob,en,R&D,EMEA,Labs\n\
         carl@example.com,Carl,en,R&D,NA,Labs\n\
         dora@example.com,Dora,,Finance,EMEA,\"Sales, Marketing\"\n\
         erik@example.com,Erik,,,EMEA,\n",
        &[],
    );
    // Four people in one region, two in one business unit: counted once each.
    assert_values_counted(&directory);
    let listed = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["stakeholders", "list"];
        all.extend_from_slice(args);
        let output = directory.cli(&all);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|first| first.contains('@'))
            .map(str::to_string)
            .collect()
    };

    assert_eq!(listed(&[]).len(), 5);
    assert_eq!(
        listed(&["--filter", "business_unit=Manufacturing,R&D"]),
        ["anna@example.com", "bob@example.com", "carl@example.com"]
    );
    assert_eq!(
        listed(&[
            "--filter",
            "business_unit=Manufacturing,R&D",
            "--filter",
            "Region=EMEA"
        ]),
        ["anna@example.com", "bob@example.com"]
    );
    assert_eq!(
        listed(&["--filter", "business_unit=R&D;region=NA"]),
        ["carl@example.com"]
    );
    assert_eq!(
        listed(&["--filter", "department=\"Sales, Marketing\""]),
        ["dora@example.com"]
    );
    assert!(listed(&["--filter", "business_unit=manufacturing"]).is_empty());

    let output = directory.cli(&["stakeholders", "list", "--filter", "business_unit=R&D"]);
    let stdout = text(&output.stdout);
    let bob = stdout.lines().find(|l| l.starts_with("bob@")).unwrap();
    for part in [
        "Bob",
        "en",
        "active",
        "business_unit=R&D; department=Labs; region=EMEA",
    ] {
        assert!(bob.contains(part), "{part:?} missing in {bob:?}");
    }
    assert!(
        stdout.contains("2 active stakeholders matching business_unit=R&D"),
        "{stdout}"
    );

    for (bad, expected) in [
        ("business_unit", "write attribute=value"),
        ("region=EMEA;region=NA", "region appears in two conditions"),
        ("email=anna@example.com", "stakeholder field"),
    ] {
        let output = directory.cli(&["stakeholders", "list", "--filter", bad]);
        assert!(!output.status.success(), "{bad} accepted");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{bad}: {stderr}");
    }
    let output = directory.cli(&[
        "stakeholders",
        "list",
        "--filter",
        "region=EMEA",
        "--filter",
        "region=NA",
    ]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("region appears in two conditions"));
}

/// Makes every UPDATE of the stakeholder with `email` fail (a trigger), to simulate a
/// failure half-way through an import's writes.
fn fail_updates_of(directory: &Directory, backend: Backend, email: &str) {
    let trigger = match backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER fail_midway BEFORE UPDATE ON stakeholders
             WHEN NEW.email = '{email}'
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN RAISE EXCEPTION 'simulated failure'; END $$;
             CREATE TRIGGER fail_midway BEFORE UPDATE ON stakeholders FOR EACH ROW
               WHEN (NEW.email = '{email}') EXECUTE FUNCTION fail_midway();"
        ),
    };
    directory.conn().batch_execute(&trigger).unwrap();
}

/// A failure half-way through writing (simulated by a trigger that refuses one row's UPDATE,
/// after all INSERTs ran and in the statement that updates an earlier row) leaves the
/// directory as it was.
async fn a_failure_mid_import_writes_nothing(backend: Backend) {
    let directory = Directory::new(backend);
    directory.import_ok(
        "email,name\nfirst@example.com,First\nlast@example.com,Last\n",
        &[],
    );
    fail_updates_of(&directory, backend, "last@example.com");

    let mut csv = String::from("email,name\nfirst@example.com,First Changed\n");
    for i in 0..2500 {
        csv.push_str(&format!("person{i:04}@example.com,Person {i}\n"));
    }
    csv.push_str("last@example.com,Last Changed\n");
    let output = directory.import(csv.as_bytes(), &[]);

    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert!(stderr.contains("simulated failure"), "{stderr}");
    let rows = directory.rows();
    assert_eq!(rows.len(), 2, "no new stakeholder survived");
    assert_eq!(
        directory.row("first@example.com").name.as_deref(),
        Some("First"),
        "the earlier update was rolled back"
    );
}

/// Every stakeholder the directory search finds for `text` (all states, every page).
fn found(directory: &Directory, text: &str) -> BTreeSet<String> {
    let mut conn = directory.conn();
    let mut emails = BTreeSet::new();
    let mut page = 1;
    loop {
        let query = DirectoryQuery {
            text: text.to_string(),
            filter: AudienceFilter::everyone(),
            state: StateFilter::All,
            page,
        };
        let result = directory::search(&mut conn, &query).unwrap();
        emails.extend(result.entries.into_iter().map(|e| e.email));
        if result.page >= result.pages {
            assert_eq!(
                emails.len(),
                result.matching,
                "{text:?}: the count and the pages agree"
            );
            return emails;
        }
        page += 1;
    }
}

/// The searches the directory must answer from `people` (email → name): the emails whose
/// email or name contains the text, compared case-insensitively.
fn assert_search_matches(directory: &Directory, people: &BTreeMap<String, String>, step: &str) {
    for text in ["quokka", "WOMBAT", "0042@", "nr 1", "ka n", "person1", "zz"] {
        let needle = text.to_lowercase();
        let expected: BTreeSet<String> = people
            .iter()
            .filter(|(email, name)| {
                email.contains(&needle) || name.to_lowercase().contains(&needle)
            })
            .map(|(email, _)| email.clone())
            .collect();
        assert_eq!(found(directory, text), expected, "{step}: search {text:?}");
    }
    if directory.db.url.is_sqlite() {
        // The FTS5 index against its content table, and its three triggers in place.
        directory
            .conn()
            .batch_execute(
                "INSERT INTO stakeholder_search (stakeholder_search, rank) \
                 VALUES ('integrity-check', 1)",
            )
            .unwrap_or_else(|e| panic!("{step}: the search index is out of step: {e}"));
        let mut conn = directory.conn();
        let db::DbConn::Sqlite(c) = &mut *conn else {
            unreachable!("a SQLite URL gives a SQLite connection")
        };
        let triggers: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' \
             AND name LIKE 'stakeholder_search_%'",
        )
        .get_result(c)
        .unwrap();
        assert_eq!(triggers, 3, "{step}: the search index's triggers");
    }
}

/// Writes a directory file of `people` (email → name).
fn directory_csv(people: &BTreeMap<String, String>) -> String {
    let mut csv = String::from("email,name\n");
    for (email, name) in people {
        csv.push_str(&format!("{email},{name}\n"));
    }
    csv
}

/// Large imports index their new stakeholders' search keys in one statement, small ones and
/// updates through the triggers: after a first import, an upsert with new and renamed
/// people, a small import and a failed large one, the search finds exactly the right people.
async fn imports_keep_the_search_index_in_step(backend: Backend) {
    let directory = Directory::new(backend);
    let mut people = BTreeMap::new();
    for i in 0..1500 {
        let name = if i % 7 == 0 {
            format!("Quokka Nr {i}")
        } else {
            format!("Person {i}")
        };
        people.insert(format!("person{i:04}@example.com"), name);
    }
    directory.import_ok(&directory_csv(&people), &[]);
    assert_search_matches(&directory, &people, "first import");

    // Renamed people (quokkas become wombats, others quokkas; 750, more than one statement
    // of `stakeholders::update_many`) and 1,200 new ones.
    for i in (0..1500).step_by(2) {
        let name = if i % 7 == 0 {
            format!("Wombat Nr {i}")
        } else {
            format!("Quokka Nr {i}")
        };
        people.insert(format!("person{i:04}@example.com"), name);
    }
    for i in 1500..2700 {
        let name = if i % 3 == 0 {
            format!("Quokka Nr {i}")
        } else {
            format!("Zzyzx {i}")
        };
        people.insert(format!("person{i:04}@example.com"), name);
    }
    let stdout = directory.import_ok(&directory_csv(&people), &[]);
    assert_counts(&stdout, 1200, 750, 750, 0, 0);
    assert_search_matches(&directory, &people, "upsert");

    // A small import: the triggers index it.
    let small: BTreeMap<String, String> = [
        ("quokka.small@example.com", "Small Quokka"),
        ("wombat.small@example.com", "Small One"),
    ]
    .iter()
    .map(|(e, n)| (e.to_string(), n.to_string()))
    .collect();
    directory.import_ok(&directory_csv(&small), &[]);
    people.extend(small);
    assert_search_matches(&directory, &people, "small import");

    // A large import that fails after its inserts: nothing of it is found, and the next
    // import is indexed again.
    fail_updates_of(&directory, backend, "person0001@example.com");
    let mut failing: BTreeMap<String, String> = (0..1100)
        .map(|i| {
            (
                format!("failed{i:04}@example.com"),
                format!("Quokka Wombat {i}"),
            )
        })
        .collect();
    failing.insert("person0001@example.com".into(), "Quokka Changed".into());
    let output = directory.import(directory_csv(&failing).as_bytes(), &[]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("rolled back"));
    assert_search_matches(&directory, &people, "failed import");
    directory
        .conn()
        .batch_execute(match backend {
            Backend::Sqlite => "DROP TRIGGER fail_midway",
            Backend::Postgres => "DROP TRIGGER fail_midway ON stakeholders",
        })
        .unwrap();
    let last: BTreeMap<String, String> = [(
        "quokka.last@example.com".to_string(),
        "Last Quokka".to_string(),
    )]
    .into();
    directory.import_ok(&directory_csv(&last), &[]);
    people.extend(last);
    assert_search_matches(&directory, &people, "after the failed import");
}

both_backends!(
    import_stores_stakeholders_with_attributes,
    every_bad_row_class_rejects_the_whole_file,
    all_problems_of_a_file_are_listed_at_once,
    semicolon_file_with_bom_and_crlf_is_read,
    quoted_fields_keep_delimiters_and_quotes,
    a_second_import_updates_in_place,
    dry_run_reports_the_counts_and_writes_nothing,
    deactivate_missing_keeps_history_and_reimport_reactivates,
    list_filters_by_attributes,
    a_failure_mid_import_writes_nothing,
    imports_keep_the_search_index_in_step,
);
