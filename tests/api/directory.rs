//! The directory in SQL gives the same results as the in-memory search it replaced: the old
//! algorithm (load every stakeholder, parse its JSON, filter and page in Rust) is kept here as
//! the reference, and every combination of search text, filter, state and page is compared
//! on a directory with the awkward cases (Unicode case, LIKE wildcards in the data and in the
//! search, values with commas, inactive people, opt-outs, bounced addresses, an attribute
//! with many values). Then a 100-page walk through the web page and the streamed
//! `pulse stakeholders list` across its batch boundaries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::connection::SimpleConnection;

use pulse::db::models::{directory_sql, opt_outs, stakeholders};
use pulse::domain::audience::AudienceFilter;
use pulse::domain::stakeholder::Attributes;
use pulse::services::stakeholders::directory::{
    self, DirectoryEntry, DirectoryQuery, StateFilter, PAGE_SIZE, SELECT_MAX_VALUES, SUGGESTIONS,
};

use crate::both_backends;
use crate::helpers::{spawn_app, text, Backend, TestApp};

/// The search as it was before it moved into SQL (services/stakeholders/directory.rs at
/// 5173590): `(total, active, matching, page, pages, entries, attribute values)`.
type Reference = (
    usize,
    usize,
    usize,
    usize,
    usize,
    Vec<DirectoryEntry>,
    BTreeMap<String, BTreeSet<String>>,
);

fn reference_search(app: &TestApp, query: &DirectoryQuery) -> Reference {
    let mut conn = app.pool.get().unwrap();
    let rows = stakeholders::load_all(&mut conn).unwrap();
    let mut opted_out: HashMap<String, Vec<String>> = HashMap::new();
    for (id, slug) in opt_outs::all(&mut conn).unwrap() {
        opted_out.entry(id).or_default().push(slug);
    }
    let suppressed = opt_outs::suppressed_emails(&mut conn).unwrap();
    let needle = query.text.trim().to_lowercase();
    let total = rows.len();
    let mut active = 0;
    let mut attributes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut selected = Vec::new();
    for row in rows {
        let parsed = Attributes::from_json(&row.attributes).unwrap();
        if row.active {
            active += 1;
        }
        for (name, value) in parsed.iter() {
            attributes
                .entry(name.to_string())
                .or_default()
                .insert(value.to_string());
        }
        let text_matches = needle.is_empty()
            || row.email.to_lowercase().contains(&needle)
            || row
                .name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(&needle));
        let state_matches = match query.state {
            StateFilter::Active => row.active,
            StateFilter::Inactive => !row.active,
            StateFilter::All => true,
        };
        if text_matches && state_matches && query.filter.matches(&parsed) {
            selected.push((row, parsed));
        }
    }
    let matching = selected.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let entries = selected
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|(row, parsed)| DirectoryEntry {
            opted_out_of: opted_out.remove(&row.id).unwrap_or_default(),
            suppressed: suppressed.contains(&row.email),
            attributes: parsed
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            email: row.email,
            name: row.name,
            language: row.language,
            active: row.active,
        })
        .collect();
    (total, active, matching, page, pages, entries, attributes)
}

const UNITS: [&str; 3] = ["Manufacturing", "R&D", "Sales"];
const DEPARTMENTS: [&str; 4] = ["Labs", "Sales, Marketing", "Plant_Ops", "100% Quality"];
const NAMES: [&str; 8] = [
    "Jörg Müller",
    "ÖZLEM Şahin",
    "Anna_Lena Berg",
    "Zoë Dubois",
    "Straße Groß",
    "100% Ivanova",
    "ÅSA Ström",
    "li",
];

/// 230 people with every awkward case; 40 distinct cost centres (more than a select offers).
fn awkward_directory(app: &TestApp) {
    let mut csv = String::from("email,name,language,business_unit,region,department,cost_center\n");
    for i in 0..230 {
        let email = match i % 5 {
            0 => format!("Person{i}@Example.com"),
            1 => format!("p_{i}@example.com"),
            2 => format!("p.{i}%x@example.org"),
            _ => format!("person{i}@example.com"),
        };
        let name = if i % 11 == 0 {
            String::new()
        } else {
            format!("{} {i}", NAMES[i % NAMES.len()])
        };
        let region = if i % 7 == 0 {
            ""
        } else if i % 2 == 0 {
            "EMEA"
        } else {
            "NA"
        };
        csv.push_str(&format!(
            "{email},{name},{},{},{region},\"{}\",CC-{:03}\n",
            if i % 3 == 0 { "de" } else { "" },
            UNITS[i % 3],
            DEPARTMENTS[i % 4],
            i % 40
        ));
    }
    let path = app.db.dir.path().join("awkward.csv");
    std::fs::write(&path, csv).unwrap();
    let output = app.cli(&["stakeholders", "import", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    // Some inactive, some opted out, some bounced.
    let mut conn = app.pool.get().unwrap();
    let rows = stakeholders::load_all(&mut conn).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let inactive: Vec<&str> = rows.iter().step_by(9).map(|r| r.id.as_str()).collect();
    stakeholders::deactivate_many(&mut conn, &inactive, now).unwrap();
    for row in rows.iter().skip(3).step_by(13) {
        opt_outs::opt_out(&mut conn, &row.id, "internal-customer", now).unwrap();
        opt_outs::opt_out(&mut conn, &row.id, "supplier", now).unwrap();
    }
    for row in rows.iter().skip(5).step_by(17) {
        opt_outs::suppress(&mut conn, &row.email, "hard bounce", None, now).unwrap();
    }
}

async fn sql_directory_gives_the_results_of_the_in_memory_search(backend: Backend) {
    let app = spawn_app(backend).await;
    awkward_directory(&app);
    let texts = [
        "",
        "person1",
        "MÜLL",
        "ö",
        "özlem",
        "%",
        "_",
        "a_l",
        "100%",
        "@EXAMPLE.COM",
        " straße ",
        "STRASSE",
        "zzz",
        "p.2",
        // Through the trigram index (3 characters or more) and around it: non-ASCII, LIKE's
        // wildcards and escape, FTS5's quote, spaces, and 1–2 characters (LIKE).
        "şah",
        "ŞAHİN",
        "%x@",
        "_1",
        "0% i",
        "ße g",
        "ÅSA STRÖM 1",
        "\\",
        "a\"b",
        "1@",
        "ng 4",
    ];
    let filters = [
        "",
        "business_unit=R&D",
        "region=EMEA;business_unit=Sales,R&D",
        "department=\"Sales, Marketing\"",
        "department=\"100% Quality\",Plant_Ops",
        "cost_center=CC-007",
        "region=APAC",
    ];
    let states = [StateFilter::Active, StateFilter::Inactive, StateFilter::All];
    let mut compared = 0;
    let mut nonempty = 0;
    // Pages 2 and after of a search take its count from here, and every search the filter
    // controls (the server's way).
    let cache = directory::DirectoryCache::default();
    for text in texts {
        for raw in filters {
            let filter = AudienceFilter::parse(raw).unwrap();
            for state in states {
                for page in [0, 1, 2, 3, 99] {
                    let query = DirectoryQuery {
                        text: text.to_string(),
                        filter: filter.clone(),
                        state,
                        page,
                    };
                    let expected = reference_search(&app, &query);
                    let mut conn = app.pool.get().unwrap();
                    let got = directory::search_with(&mut conn, &query, &cache).unwrap();
                    let what = format!("text {text:?}, filter {raw:?}, {state:?}, page {page}");
                    assert_eq!(
                        (got.total, got.active, got.matching, got.page, got.pages),
                        (expected.0, expected.1, expected.2, expected.3, expected.4),
                        "{what}"
                    );
                    assert_eq!(got.entries, expected.5, "{what}");
                    if !got.entries.is_empty() {
                        nonempty += 1;
                    }
                    // The filter controls: every value of a small attribute; the most common
                    // ones of a large one.
                    let names: Vec<&str> = got.attributes.iter().map(|a| a.name.as_str()).collect();
                    assert_eq!(
                        names,
                        expected.6.keys().map(String::as_str).collect::<Vec<_>>()
                    );
                    for choice in &got.attributes {
                        let all = &expected.6[&choice.name];
                        assert_eq!(choice.distinct, all.len(), "{}", choice.name);
                        if all.len() <= SELECT_MAX_VALUES {
                            assert!(!choice.many());
                            assert_eq!(choice.values, all.iter().cloned().collect::<Vec<_>>());
                        } else {
                            assert!(choice.many());
                            assert_eq!(choice.values.len(), all.len().min(SUGGESTIONS));
                            assert!(choice.values.iter().all(|v| all.contains(v)));
                        }
                    }
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, texts.len() * filters.len() * 3 * 5);
    assert!(
        nonempty > compared / 3,
        "only {nonempty} searches found anyone"
    );
}

/// An attribute with more values than a select offers is a text field with suggestions, and
/// typing one of its values filters like a select does.
async fn many_values_are_a_text_field_with_suggestions(backend: Backend) {
    let app = spawn_app(backend).await;
    awkward_directory(&app);
    app.signed_in_admin().await;
    let html = app.get("/admin/stakeholders").await.text().await.unwrap();
    assert!(
        html.contains("list=\"attr-cost_center-values\"")
            && html.contains("<datalist id=\"attr-cost_center-values\">")
            && html.contains("<option value=\"CC-007\"></option>")
            && !html.contains("<select id=\"attr-cost_center\""),
        "{html}"
    );
    // Few values: still a select.
    assert!(html.contains("<select id=\"attr-business_unit\""));

    let html = app
        .get("/admin/stakeholders?a.cost_center=CC-007&state=all")
        .await
        .text()
        .await
        .unwrap();
    // i % 40 == 7 for i < 230: 7, 47, 87, 127, 167, 207.
    assert!(html.contains("6 matching · page 1 of 1"), "{html}");
    assert!(
        html.contains("value=\"CC-007\""),
        "the typed value stays in the field"
    );
}

/// The wave form's audience builder reads the directory's summaries, not the directory: an
/// attribute with more values than a select offers is a text field with suggestions, and
/// "Count who would be invited" gives what the in-memory reference gives (active, matching,
/// then not opted out of the survey, then address not suppressed) — and opening the wave
/// invites exactly that many.
async fn the_wave_form_offers_and_counts_the_audience(backend: Backend) {
    let app = spawn_app(backend).await;
    awkward_directory(&app);
    let csrf = app.signed_in_admin().await;
    let html = app.get("/admin/waves/new").await.text().await.unwrap();
    assert!(
        html.contains("list=\"a-cost_center-values\"")
            && html.contains("<datalist id=\"a-cost_center-values\">")
            && html.contains("<option value=\"CC-007\"></option>")
            && html.contains("40 values: type one exactly")
            && !html.contains("<select id=\"a-cost_center\""),
        "{html}"
    );
    assert!(html.contains("<select id=\"a-business_unit\""));
    assert!(html.contains("<option value=\"R&amp;D\">R&amp;D</option>"));

    // The reference: every stakeholder read and matched in memory, as opening a wave does.
    let survey = "internal-customer";
    let mut conn = app.pool.get().unwrap();
    let rows = stakeholders::load_all(&mut conn).unwrap();
    let opted_out = opt_outs::opted_out_of(&mut conn, survey).unwrap();
    let suppressed = opt_outs::suppressed_emails(&mut conn).unwrap();
    drop(conn);
    let reference = |filter: &AudienceFilter| {
        let (mut invited, mut opted, mut bounced) = (0, 0, 0);
        for row in rows.iter().filter(|r| r.active) {
            if !filter.matches(&Attributes::from_json(&row.attributes).unwrap()) {
                continue;
            }
            if opted_out.contains(&row.id) {
                opted += 1;
            } else if suppressed.contains(&row.email) {
                bounced += 1;
            } else {
                invited += 1;
            }
        }
        (invited, opted, bounced)
    };
    // The figure just before `marker` in the form's count (0 when the marker is absent: the
    // page leaves out a part that is zero).
    let figure = |html: &str, marker: &str| -> usize {
        let line = html
            .split("id=\"audience-count\">")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("no count on the page: {html}"));
        line.split(marker)
            .next()
            .filter(|_| line.contains(marker))
            .map_or(0, |before| {
                let digits: String = before
                    .chars()
                    .rev()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.chars().rev().collect::<String>().parse().unwrap()
            })
    };
    let cases: [&[(&str, &str)]; 5] = [
        &[],
        &[("a.region", "EMEA")],
        &[("a.cost_center", "CC-007"), ("a.cost_center", "CC-013")],
        &[
            ("a.region", "NA"),
            ("a.business_unit", "R&D"),
            ("a.cost_center", ""),
        ],
        &[("a.cost_center", "CC-999")],
    ];
    let mut excluded_seen = (0, 0);
    for choices in cases {
        let mut form = vec![
            ("csrf_token", csrf.as_str()),
            ("survey", survey),
            ("title", "Audience check"),
            ("action", "count"),
        ];
        form.extend_from_slice(choices);
        let page = app.post_form("/admin/waves", &form).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let pairs: Vec<(String, String)> = choices
            .iter()
            .map(|(k, v)| (k.trim_start_matches("a.").to_string(), v.to_string()))
            .collect();
        let filter = pulse::services::audience::filter_from_choices(&pairs).unwrap();
        let (invited, opted, bounced) = reference(&filter);
        assert_eq!(
            (
                figure(&html, "</strong> people would be invited"),
                figure(&html, " more match but opted out of this survey"),
                figure(&html, " more match but their address bounced"),
            ),
            (invited, opted, bounced),
            "{choices:?}: {html}"
        );
        excluded_seen.0 += opted;
        excluded_seen.1 += bounced;
        for (name, value) in choices
            .iter()
            .filter(|(n, v)| *n == "a.cost_center" && !v.is_empty())
        {
            assert!(
                html.contains(&format!(
                    "name=\"{name}\" type=\"text\" list=\"a-cost_center-values\" value=\"{value}\""
                )),
                "the typed value {value} stays in its field: {html}"
            );
        }
    }
    assert!(
        excluded_seen.0 > 0 && excluded_seen.1 > 0,
        "the cases meet opted-out and bounced people: {excluded_seen:?}"
    );

    // Opening the wave invites the number the form gave.
    let chosen = [("a.cost_center", "CC-007"), ("a.cost_center", "CC-013")];
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("survey", survey),
        ("title", "Two cost centres"),
        ("opens", "now"),
        ("closes", "2099-01-01T12:00"),
        ("anonymity_k", "5"),
    ];
    form.extend_from_slice(&chosen);
    let created = app.post_form("/admin/waves", &form).await;
    assert_eq!(created.status(), 303, "{}", created.text().await.unwrap());
    crate::waves::tick(
        &app,
        chrono::Utc::now().naive_utc() + chrono::Duration::seconds(5),
    );
    let pairs: Vec<(String, String)> = chosen
        .iter()
        .map(|(k, v)| (k.trim_start_matches("a.").to_string(), v.to_string()))
        .collect();
    let filter = pulse::services::audience::filter_from_choices(&pairs).unwrap();
    let mut conn = app.pool.get().unwrap();
    let invitations: i64 = {
        use diesel::prelude::*;
        use pulse::db::schema::invitations::dsl;
        dsl::invitations.count().get_result(&mut conn).unwrap()
    };
    assert_eq!(invitations as usize, reference(&filter).0);
}

/// A stored audience with several values of a many-valued attribute (a schedule's, made
/// outside the form) comes back on the schedule form as one text field per value, and
/// saving the form as shown keeps it.
async fn a_stored_audience_keeps_its_typed_values_on_the_schedule_form(backend: Backend) {
    let app = spawn_app(backend).await;
    awkward_directory(&app);
    let id = {
        let mut conn = app.pool.get().unwrap();
        let input = pulse::services::schedules::ScheduleInput {
            survey: "internal-customer".into(),
            every: "6m".into(),
            starting: "2099-01-15".into(),
            open_for: "21d".into(),
            remind: "7d".into(),
            audience: "cost_center=CC-007,CC-013;region=EMEA".into(),
            ..Default::default()
        };
        pulse::services::schedules::add_schedule(&mut conn, &input, chrono::Utc::now().naive_utc())
            .unwrap()
            .id
    };
    let csrf = app.signed_in_admin().await;
    let edit_form = || async {
        app.get(&format!("/admin/schedules/{id}"))
            .await
            .text()
            .await
            .unwrap()
    };
    let typed = |html: &str, value: &str| {
        html.contains(&format!(
            "name=\"a.cost_center\" type=\"text\" list=\"a-cost_center-values\" value=\"{value}\""
        ))
    };
    let form = edit_form().await;
    assert!(typed(&form, "CC-007") && typed(&form, "CC-013"), "{form}");
    assert!(form.contains("<option value=\"EMEA\" selected>EMEA</option>"));
    let saved = app
        .post_form(
            &format!("/admin/schedules/{id}"),
            &[
                ("csrf_token", &csrf),
                ("survey", "internal-customer"),
                ("every", "6m"),
                ("starting", "2099-01-15T00:00"),
                ("open_for", "21"),
                ("remind", "7"),
                ("title", ""),
                ("anonymity_k", "5"),
                ("a.business_unit", ""),
                ("a.cost_center", "CC-007"),
                ("a.cost_center", "CC-013"),
                ("a.department", ""),
                ("a.region", "EMEA"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let form = edit_form().await;
    assert!(typed(&form, "CC-007") && typed(&form, "CC-013"), "{form}");
    let page = app.get("/admin/schedules").await.text().await.unwrap();
    assert!(
        page.contains("<td>Cost centre: CC-007 or CC-013; Region: EMEA</td>"),
        "{page}"
    );
}

/// 5,050 people: every one of the 102 pages of the web page holds exactly the right 50 (the
/// server's memory under such a walk is measured by `examples/directory_bench.rs`), and the
/// streamed `pulse stakeholders list` prints them all in order across its batches.
async fn a_hundred_pages_and_the_streamed_list_are_complete(backend: Backend) {
    let app = spawn_app(backend).await;
    let people = 5050;
    app.seed_stakeholders(people);
    app.signed_in_admin().await;
    let expected: Vec<String> = {
        let mut conn = app.pool.get().unwrap();
        stakeholders::load_all(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.email)
            .collect()
    };
    assert_eq!(expected.len(), people);
    let pages = people.div_ceil(PAGE_SIZE);
    for page in 1..=pages {
        let html = app
            .get(&format!("/admin/stakeholders?page={page}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("{people} matching · page {page} of {pages}")),
            "page {page}"
        );
        let listed: Vec<&str> = html
            .split("<td>")
            .skip(1)
            .filter_map(|cell| cell.split("</td>").next())
            .filter(|cell| cell.ends_with("@example.com"))
            .collect();
        let from = (page - 1) * PAGE_SIZE;
        let to = (from + PAGE_SIZE).min(people);
        assert_eq!(listed, expected[from..to], "page {page}");
    }

    let output = app.cli(&["stakeholders", "list"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let listed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|first| first.contains('@'))
        .collect();
    assert_eq!(listed, expected);
    assert!(stdout.contains(&format!("{people} active stakeholders\n")));
    // The same stream in batches smaller than the directory, across their boundaries.
    let mut streamed = Vec::new();
    pulse::services::stakeholders::directory::for_each_in_batches(
        &mut app.pool.get().unwrap(),
        &pulse::domain::audience::AudienceFilter::everyone(),
        false,
        1000,
        |s| {
            streamed.push(s.email);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(streamed, expected);

    let output = app.cli(&["stakeholders", "list", "--filter", "region=EMEA"]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("2525 active stakeholders matching region=EMEA"),
        "{stdout}"
    );
}

/// A directory stored before the search index existed: the migration indexes its attributes
/// (trimmed, as they are read), counts the values and folds names the way the search does —
/// non-ASCII capitals included, which SQLite's lower() leaves alone.
async fn a_directory_from_before_the_index_is_migrated(backend: Backend) {
    let test_db = crate::helpers::TestDb::new(backend);
    let pool = pulse::db::connect(&test_db.url).unwrap();
    let mut conn = pool.get().unwrap();
    pulse::db::run_migrations(&mut conn).unwrap();
    crate::helpers::revert_migrations_through(&mut conn, "20261201000009");
    use diesel::connection::SimpleConnection;
    conn.batch_execute(
        r#"INSERT INTO stakeholders (id, email, name, language, attributes, active, created_at, updated_at) VALUES
        ('a', 'Odon@Example.com', 'ÖDÖN Ülker', 'de', '{"region":"EMEA","site":" Graz "}', TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
        ('b', 'anna@example.com', 'Anna', NULL, '{"region":"NA"}', TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
        ('c', 'carl@example.com', NULL, NULL, '{"region":"EMEA"}', FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"#,
    )
    .unwrap();
    pulse::db::run_migrations(&mut conn).unwrap();

    let search = |conn: &mut pulse::db::DbConn, text: &str, filter: &str, state| {
        let query = DirectoryQuery {
            text: text.into(),
            filter: AudienceFilter::parse(filter).unwrap(),
            state,
            page: 1,
        };
        directory::search(conn, &query)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.email)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        search(&mut conn, "ödön ü", "", StateFilter::Active),
        ["Odon@Example.com"]
    );
    assert_eq!(
        search(&mut conn, "odon@example", "", StateFilter::Active),
        ["Odon@Example.com"]
    );
    assert_eq!(
        search(&mut conn, "", "site=Graz", StateFilter::Active),
        ["Odon@Example.com"]
    );
    // (The order is the database's collation of emails, which differs between backends.)
    let mut emea = search(&mut conn, "", "region=EMEA", StateFilter::All);
    emea.sort();
    assert_eq!(emea, ["Odon@Example.com", "carl@example.com"]);
    let choices = directory::attribute_choices(&mut conn).unwrap();
    let region = choices.iter().find(|c| c.name == "region").unwrap();
    assert_eq!(region.values, ["EMEA", "NA"]);
    let site = choices.iter().find(|c| c.name == "site").unwrap();
    assert_eq!(site.values, ["Graz"]);
}

/// The stakeholders a search selects, in the order of the database's collation of emails
/// (the reference search's order), by the in-memory algorithm.
fn reference_emails(
    app: &TestApp,
    text: &str,
    filter: &AudienceFilter,
    state: StateFilter,
) -> Vec<String> {
    let mut conn = app.pool.get().unwrap();
    let needle = text.trim().to_lowercase();
    stakeholders::load_all(&mut conn)
        .unwrap()
        .into_iter()
        .filter(|row| {
            let parsed = Attributes::from_json(&row.attributes).unwrap();
            let text_matches = needle.is_empty()
                || row.email.to_lowercase().contains(&needle)
                || row
                    .name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&needle));
            let state_matches = match state {
                StateFilter::Active => row.active,
                StateFilter::Inactive => !row.active,
                StateFilter::All => true,
            };
            text_matches && state_matches && filter.matches(&parsed)
        })
        .map(|row| row.email)
        .collect()
}

/// Both ways SQLite reads a page (along the email index, or from the matches and sorted) and
/// the stream give the same people in the same order, for every search, also after an import
/// changed names (the trigram index follows every write) and deactivated people. Pages of
/// attribute filters with their count are read both ways on both backends (and on SQLite
/// with the conditions' people joined or intersected).
async fn every_way_of_reading_a_search_gives_the_same_people(backend: Backend) {
    let app = spawn_app(backend).await;
    awkward_directory(&app);
    let check = |app: &TestApp| {
        let texts = [
            "", "müll", "p_1", "100%", "şah", "ng 4", "zz", "lund", "x@e",
        ];
        let filters = [
            "",
            "region=EMEA;business_unit=Sales,R&D",
            "department=\"100% Quality\",Plant_Ops;region=NA",
            "cost_center=CC-007,CC-008",
            // A narrow condition and a broad one: joined, not intersected (SQLite).
            "cost_center=CC-007,CC-013;region=EMEA",
        ];
        let mut found = 0;
        for text in texts {
            for raw in filters {
                let filter = AudienceFilter::parse(raw).unwrap();
                for state in [StateFilter::Active, StateFilter::Inactive, StateFilter::All] {
                    let expected = reference_emails(app, text, &filter, state);
                    found += expected.len();
                    let sql = directory_sql::DirectorySql {
                        text: stakeholders::search_key(text.trim()),
                        active: match state {
                            StateFilter::Active => directory_sql::ActiveFilter::Active,
                            StateFilter::Inactive => directory_sql::ActiveFilter::Inactive,
                            StateFilter::All => directory_sql::ActiveFilter::Any,
                        },
                        conditions: filter
                            .conditions()
                            .map(|(n, v)| (n.as_str().to_string(), v.iter().cloned().collect()))
                            .collect(),
                    };
                    let what = format!("text {text:?}, filter {raw:?}, {state:?}");
                    let mut conn = app.pool.get().unwrap();
                    assert_eq!(
                        sql.count(&mut conn).unwrap() as usize,
                        expected.len(),
                        "{what}"
                    );
                    // Sizes that make the walk along the email index the cheaper way, then
                    // reading the matches; pages of 7 across the whole result.
                    for sizes in [
                        directory_sql::PageSizes {
                            matching: 1_000_000,
                            population: 1,
                        },
                        directory_sql::PageSizes {
                            matching: 1,
                            population: 1_000_000,
                        },
                    ] {
                        let mut paged = Vec::new();
                        for offset in (0..expected.len() + 7).step_by(7) {
                            let rows = sql.page(&mut conn, offset as i64, 7, sizes).unwrap();
                            paged.extend(rows.into_iter().map(|r| r.email));
                        }
                        assert_eq!(paged, expected, "{what}, {sizes:?}");
                        let mut streamed = Vec::new();
                        let mut after: Option<String> = None;
                        loop {
                            let rows = sql.after(&mut conn, after.as_deref(), 5, sizes).unwrap();
                            let Some(last) = rows.last() else { break };
                            after = Some(last.email.clone());
                            streamed.extend(rows.into_iter().map(|r| r.email));
                        }
                        assert_eq!(streamed, expected, "{what}, {sizes:?}");
                        // The page with its count, in one statement where it can be. A
                        // population as small as the matches makes every page of a filter
                        // "near the start" (counted, then walked along the email index); the
                        // others read every match and sort them.
                        for population in [sizes.population, expected.len().max(1) as i64] {
                            let mut paged = Vec::new();
                            for offset in (0..expected.len() + 7).step_by(7) {
                                match sql
                                    .page_and_count(&mut conn, offset as i64, 7, population)
                                    .unwrap()
                                {
                                    Some((rows, matching)) => {
                                        assert_eq!(matching as usize, expected.len(), "{what}");
                                        assert!(offset < expected.len().max(1), "{what}");
                                        paged.extend(rows.into_iter().map(|r| r.email));
                                    }
                                    None => {
                                        assert!(offset >= expected.len() && offset > 0, "{what}")
                                    }
                                }
                            }
                            assert_eq!(paged, expected, "{what}, {sizes:?}, {population}");
                        }
                    }
                    // The stream of the service (no text; active, or everyone).
                    if text.is_empty() && state != StateFilter::Inactive {
                        let mut streamed = Vec::new();
                        directory::for_each_in_batches(
                            &mut conn,
                            &filter,
                            state == StateFilter::All,
                            3,
                            |s| {
                                streamed.push(s.email);
                                Ok(())
                            },
                        )
                        .unwrap();
                        assert_eq!(streamed, expected, "{what}");
                    }
                }
            }
        }
        assert!(found > 500, "only {found} found");
    };
    check(&app);

    // Names change (the index forgets the old ones), a newcomer arrives, and everyone missing
    // from the file is deactivated.
    let mut csv = String::from("email,name,region,business_unit\n");
    for i in 0..230 {
        if i % 4 == 3 {
            continue;
        }
        let email = match i % 5 {
            0 => format!("Person{i}@Example.com"),
            1 => format!("p_{i}@example.com"),
            2 => format!("p.{i}%x@example.org"),
            _ => format!("person{i}@example.com"),
        };
        let name = if i % 2 == 0 {
            format!("Lund {i}")
        } else {
            format!("Şahin Müller {i}")
        };
        csv.push_str(&format!("{email},{name},EMEA,Sales\n"));
    }
    csv.push_str("newcomer@example.com,Zoë Lund,NA,R&D\n");
    let path = app.db.dir.path().join("changed.csv");
    std::fs::write(&path, csv).unwrap();
    let output = app.cli(&[
        "stakeholders",
        "import",
        "--deactivate-missing",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut conn = app.pool.get().unwrap();
    let old = DirectoryQuery {
        text: "Straße".into(),
        filter: AudienceFilter::everyone(),
        state: StateFilter::All,
        page: 1,
    };
    let got = directory::search(&mut conn, &old).unwrap();
    assert_eq!(got.matching, reference_search(&app, &old).2);
    let lund = DirectoryQuery {
        text: "LUND".into(),
        ..old
    };
    let got = directory::search(&mut conn, &lund).unwrap();
    assert!(got.matching > 100, "{}", got.matching);
    assert_eq!(got.entries, reference_search(&app, &lund).5);
    drop(conn);
    check(&app);
}

/// The directory's totals ("N active of M"), kept by triggers, and the counts of searches
/// the server keeps while the directory is unchanged, stay those of the stakeholders
/// through every kind of write: a large import (counted in one statement on
/// SQLite), a re-import that updates, deactivates the missing and reactivates, a
/// deactivation, and rows written with plain SQL.
async fn the_totals_follow_every_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let import = |rows: std::ops::Range<usize>, extra: &[&str]| {
        let mut csv = String::from("email,name,region\n");
        for i in rows {
            // The people after the first import bring a region of their own.
            let region = if i < 1200 {
                format!("R{}", i % 3)
            } else {
                "R9".into()
            };
            csv.push_str(&format!("p{i}@example.com,Person {i},{region}\n"));
        }
        let path = app.db.dir.path().join("totals.csv");
        std::fs::write(&path, csv).unwrap();
        let mut args = vec!["stakeholders", "import", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let output = app.cli(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
    };
    // The counts of searches and the filter controls are kept between the checks, as the
    // server keeps them: each write must make them read again.
    let cache = directory::DirectoryCache::default();
    let check = |what: &str| {
        let mut conn = app.pool.get().unwrap();
        let rows = stakeholders::load_all(&mut conn).unwrap();
        let active = rows.iter().filter(|r| r.active).count();
        let page = directory::search_with(&mut conn, &DirectoryQuery::default(), &cache).unwrap();
        assert_eq!((page.total, page.active), (rows.len(), active), "{what}");
        let values: BTreeMap<String, BTreeSet<String>> = page
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.values.iter().cloned().collect()))
            .collect();
        assert_eq!(
            values,
            reference_search(&app, &DirectoryQuery::default()).6,
            "{what}"
        );
        for (text, filter) in [("", "region=R1"), ("person 1", ""), ("1", "region=R0,R2")] {
            for state in [StateFilter::Active, StateFilter::Inactive, StateFilter::All] {
                for page in [2, 1, 99] {
                    let query = DirectoryQuery {
                        text: text.into(),
                        filter: AudienceFilter::parse(filter).unwrap(),
                        state,
                        page,
                    };
                    let got = directory::search_with(&mut conn, &query, &cache).unwrap();
                    let expected = reference_search(&app, &query);
                    assert_eq!(
                        (got.matching, got.page, &got.entries),
                        (expected.2, expected.3, &expected.5),
                        "{what}: {text:?} {filter:?} {state:?} page {page}"
                    );
                }
            }
        }
        (rows.len(), active)
    };
    assert_eq!(check("empty"), (0, 0));
    import(0..1200, &[]);
    assert_eq!(check("a large import"), (1200, 1200));
    import(100..1250, &["--deactivate-missing"]);
    assert_eq!(check("new, updated and deactivated"), (1250, 1150));
    import(0..50, &[]);
    assert_eq!(check("reactivated"), (1250, 1200));
    let mut conn = app.pool.get().unwrap();
    let ids: Vec<String> = stakeholders::load_all(&mut conn).unwrap()[..10]
        .iter()
        .map(|r| r.id.clone())
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let now = chrono::Utc::now().naive_utc();
    stakeholders::deactivate_many(&mut conn, &ids, now).unwrap();
    check("deactivated one by one");
    let mut conn = app.pool.get().unwrap();
    conn.batch_execute(
        "INSERT INTO stakeholders (id, email, attributes, active, created_at, updated_at) \
         VALUES ('plain-sql', 'plain@example.com', '{}', FALSE, '2026-12-03 10:00:00', \
         '2026-12-03 10:00:00')",
    )
    .unwrap();
    check("a row of plain SQL");
    conn.batch_execute("UPDATE stakeholders SET active = TRUE WHERE id = 'plain-sql'")
        .unwrap();
    check("its state changed by plain SQL");
}

both_backends!(
    the_totals_follow_every_write,
    every_way_of_reading_a_search_gives_the_same_people,
    a_directory_from_before_the_index_is_migrated,
    sql_directory_gives_the_results_of_the_in_memory_search,
    many_values_are_a_text_field_with_suggestions,
    the_wave_form_offers_and_counts_the_audience,
    a_stored_audience_keeps_its_typed_values_on_the_schedule_form,
    a_hundred_pages_and_the_streamed_list_are_complete,
);
