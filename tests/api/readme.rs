//! The README against the binary: the configuration table lists exactly the flags of
//! `pulse serve --help`, with the same environment variables and defaults, and the command
//! tour names every subcommand.

use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// `pulse ARGS --help` with no PULSE_* variable set (clap would print their values), all
/// whitespace collapsed so line wrapping does not matter.
fn help(args: &[&str]) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success());
    let raw = String::from_utf8(output.stdout).unwrap();
    let flat = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (raw, flat)
}

/// Rows of the README's configuration table: (flag, environment variable, default).
fn config_rows(readme: &str) -> Vec<(String, String, String)> {
    readme
        .lines()
        .filter(|line| line.starts_with("| `--"))
        .map(|line| {
            let cells: Vec<String> = line
                .split(" | ")
                .map(|c| {
                    c.trim_matches(|ch| ch == '|' || ch == ' ' || ch == '`')
                        .to_string()
                })
                .collect();
            (cells[0].clone(), cells[1].clone(), cells[2].clone())
        })
        .collect()
}

#[test]
fn the_configuration_table_matches_serve_help() {
    let (raw, flat) = help(&["serve"]);
    let readme = readme();
    let rows = config_rows(&readme);
    // Every flag of the help is in the table…
    let flags: Vec<String> = raw
        .lines()
        .filter_map(|line| {
            let line = line
                .trim_start()
                .trim_start_matches("-h, ")
                .trim_start_matches("-V, ");
            let flag = line.strip_prefix("--")?;
            let name: String = flag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some(format!("--{name}"))
        })
        .filter(|flag| flag != "--help" && flag != "--version")
        .collect();
    assert!(flags.len() > 20, "{flags:?}");
    for flag in &flags {
        assert!(
            rows.iter().any(|(f, _, _)| f == flag),
            "{flag} of `pulse serve --help` is missing from the README's configuration table"
        );
    }
    // …and every row says what the help says.
    for (flag, env, default) in &rows {
        assert!(
            flags.contains(flag),
            "README lists {flag}, which `pulse serve` does not have"
        );
        assert!(
            flat.contains(&format!("[env: {env}")),
            "{flag}: the help names no {env}"
        );
        if !default.is_empty() && flag != "--base-url" {
            assert!(
                flat.contains(&format!("[default: {default}]"))
                    || flat.contains(&format!("[default: {default};")),
                "{flag}: the help's default is not {default}"
            );
        }
    }
}

#[test]
fn the_command_tour_names_every_subcommand() {
    let (raw, _) = help(&[]);
    let readme = readme();
    let commands: Vec<&str> = raw
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|command| *command != "help")
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    for command in commands {
        assert!(
            readme.contains(&format!("pulse {command}")),
            "the README's command tour does not mention `pulse {command}`"
        );
    }
}
