//! `pulse backup FILE` and `pulse restore FILE` for SQLite databases.
//!
//! * **backup** takes an online, consistent copy with `VACUUM INTO` while `pulse serve`
//!   keeps running: into a temporary file beside `FILE`, synced, checked with
//!   `PRAGMA integrity_check`, and only then renamed to `FILE` — there is never a half
//!   file under that name. An existing `FILE` is kept unless `--force`.
//! * **restore** checks that `FILE` is a sound Procurement Pulse database, copies it beside
//!   the database of `--database-url` and renames it into place (stale `-wal`/`-shm` files
//!   of the old database are removed first, or SQLite would replay them into the restored
//!   one), then applies pending migrations. Stop every `pulse serve` on that database first.
//!
//! On PostgreSQL both commands refuse with the exact `pg_dump` / `pg_restore` command to run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::GlobalArgs;
use crate::db::{self, backup, DatabaseUrl};

#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy, e.g. /var/backups/pulse-2027-01-15.db
    pub file: PathBuf,
    /// Replace FILE if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// A copy written by `pulse backup`
    pub file: PathBuf,
    /// Replace the existing database of --database-url (stop every `pulse serve` using it first)
    #[arg(long)]
    pub force: bool,
}

/// `pulse backup FILE`.
pub fn run_backup(global: &GlobalArgs, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let url = global.database_url()?;
    let DatabaseUrl::Sqlite(path) = &url else {
        anyhow::bail!(
            "pulse backup copies SQLite databases; for PostgreSQL use pg_dump, e.g.\n  pg_dump --format=custom --file={} '{}'\n(restore with: pg_restore --clean --if-exists --no-owner --dbname='{}' {})",
            args.file.display(),
            url,
            url,
            args.file.display()
        );
    };
    if !Path::new(path).is_file() {
        anyhow::bail!("there is no database at {path} (check --database-url)");
    }
    if args.file.exists() && !args.force {
        anyhow::bail!(
            "{} exists already: choose another name, or add --force to replace it",
            args.file.display()
        );
    }
    let started = Instant::now();
    let temp = temp_beside(&args.file)?;
    let written = (|| -> anyhow::Result<backup::FileCheck> {
        let pool = db::connect(&url)?;
        let mut conn = pool.get().context("cannot open the database")?;
        backup::vacuum_into(&mut conn, &temp)?;
        drop(conn);
        sync_file(&temp)?;
        backup::check_file(&temp).context("the copy failed its check and was removed")
    })();
    let check = match written {
        Ok(check) => check,
        Err(error) => {
            let _ = std::fs::remove_file(&temp);
            return Err(error);
        }
    };
    if let Err(error) = put_in_place(&temp, &args.file, args.force) {
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    let size = std::fs::metadata(&args.file)?.len();
    println!(
        "backup written to {} ({} bytes, {} migrations, integrity ok) in {} ms",
        args.file.display(),
        size,
        check.migrations,
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

/// `pulse restore FILE`.
pub fn run_restore(global: &GlobalArgs, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let url = global.database_url()?;
    let DatabaseUrl::Sqlite(path) = &url else {
        anyhow::bail!(
            "pulse restore writes SQLite databases; for PostgreSQL restore a pg_dump file with\n  pg_restore --clean --if-exists --no-owner --dbname='{}' {}\n(stop every pulse serve on that database first)",
            url,
            args.file.display()
        );
    };
    let target = PathBuf::from(path);
    let check = backup::check_file(&args.file)
        .with_context(|| format!("{} cannot be restored", args.file.display()))?;
    if target.exists() && !args.force {
        anyhow::bail!(
            "a database exists at {}: stop every pulse serve using it, then add --force to replace it",
            target.display()
        );
    }
    let started = Instant::now();
    let temp = temp_beside(&target)?;
    let copied = std::fs::copy(&args.file, &temp)
        .map_err(anyhow::Error::from)
        .and_then(|_| sync_file(&temp));
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&temp);
        return Err(error.context(format!("cannot copy {}", args.file.display())));
    }
    // The old database's write-ahead log belongs to the old file: replayed into the
    // restored one it would corrupt it.
    for suffix in ["-wal", "-shm"] {
        let stale = PathBuf::from(format!("{path}{suffix}"));
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Err(e).with_context(|| format!("cannot remove {}", stale.display()));
            }
        }
    }
    if let Err(error) = put_in_place(&temp, &target, args.force) {
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    let pool = db::connect(&url)?;
    let applied = db::run_migrations(&mut *pool.get()?)?;
    println!(
        "restored {} to {} ({} migrations in the copy, {} applied now) in {} ms",
        args.file.display(),
        target.display(),
        check.migrations,
        applied.len(),
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

/// A new, unused name in the folder of `file` (so the final rename stays on one disk).
fn temp_beside(file: &Path) -> anyhow::Result<PathBuf> {
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".partial-{}", uuid::Uuid::new_v4().simple()));
    Ok(file.with_file_name(temp_name))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", path.display()))
}

/// Moves the finished `temp` to `target` in one step. Without `force` an existing target is
/// never replaced (a hard link fails if the name exists; rename would replace it).
fn put_in_place(temp: &Path, target: &Path, force: bool) -> anyhow::Result<()> {
    if force {
        std::fs::rename(temp, target)
            .with_context(|| format!("cannot move the copy to {}", target.display()))?;
    } else {
        match std::fs::hard_link(temp, target) {
            Ok(()) => {
                let _ = std::fs::remove_file(temp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                anyhow::bail!(
                    "{} appeared meanwhile: choose another name, or add --force",
                    target.display()
                );
            }
            // A file system without hard links: the target was checked absent just before.
            Err(_) => std::fs::rename(temp, target)
                .with_context(|| format!("cannot move the copy to {}", target.display()))?,
        }
    }
    // Make the new name durable too.
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}
