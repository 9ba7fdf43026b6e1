# What the stakeholder import's writes cost SQLite alone: the rows Pulse writes for a file
# of new stakeholders (the stakeholders with their search keys, the FTS5 trigram index, the
# attribute index, the counted values, the statistics), written with the statements and in
# the order `services::stakeholders::write_plan` uses, into a database `pulse migrate` made.
# The rows are first staged in memory (temp tables) and then copied with INSERT … SELECT,
# so the timed part is SQLite's work, with no per-row cost of Python or of Pulse.
# Usage: python3 import_floor.py FILE.csv DATABASE   (prints each phase's seconds)
import csv, json, sqlite3, sys, time

path, database = sys.argv[1], sys.argv[2]
rows = []
with open(path, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    header = [h.strip().lower() for h in next(reader)]
    ei, ni, li = header.index("email"), header.index("name"), header.index("language")
    attributes = sorted((h, i) for i, h in enumerate(header) if h not in ("email", "name", "language"))
    for record in reader:
        pairs = [(h, record[i].strip()) for h, i in attributes if record[i].strip()]
        rows.append((record[ei].strip(), record[ni].strip() or None, record[li].strip() or None, pairs))
rows.sort(key=lambda r: r[0])
# Time-ordered ids, as the import's UUIDv7: ascending in the order of the rows.
start_ms = time.time_ns() // 1_000_000
ids = ["%08x-%04x-7000-8000-%012x" % (start_ms >> 16, start_ms & 0xFFFF, i) for i in range(len(rows))]
now = "2026-12-03 00:00:00"

conn = sqlite3.connect(database, isolation_level=None)
conn.execute("PRAGMA synchronous = FULL")
conn.execute("PRAGMA cache_size = -32768")
conn.execute("PRAGMA temp_store = MEMORY")
conn.execute("CREATE TEMP TABLE staged (id, email, name, language, attributes, email_key, name_key)")
conn.execute("CREATE TEMP TABLE staged_attributes (name, value, stakeholder_id)")
conn.executemany("INSERT INTO staged VALUES (?, ?, ?, ?, ?, ?, ?)", (
    (ids[k], e, n, l, json.dumps(dict(p), separators=(",", ":"), ensure_ascii=False), e.lower(), (n or "").lower())
    for k, (e, n, l, p) in enumerate(rows)))
conn.executemany("INSERT INTO staged_attributes VALUES (?, ?, ?)", sorted(
    (h, v, ids[k]) for k, (_, _, _, p) in enumerate(rows) for h, v in p))
# The import counts the values itself and writes one row per value.
conn.execute("CREATE TEMP TABLE staged_values AS SELECT name, value, COUNT(*) AS people "
             "FROM temp.staged_attributes GROUP BY name, value")

timings = {}
def phase(name, *statements):
    started = time.perf_counter()
    for statement in statements:
        conn.execute(statement)
    timings[name] = time.perf_counter() - started

started = time.perf_counter()
conn.execute("BEGIN IMMEDIATE")
triggers = conn.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name IN "
                        "('stakeholder_search_insert', 'directory_totals_insert')").fetchall()
for name, _ in triggers:
    conn.execute(f"DROP TRIGGER {name}")
phase("stakeholders",
      "INSERT INTO stakeholders (id, email, name, language, attributes, active, created_at, updated_at, "
      f"email_key, name_key) SELECT id, email, name, language, attributes, 1, '{now}', '{now}', "
      "email_key, name_key FROM temp.staged ORDER BY rowid")
phase("search index",
      "INSERT INTO stakeholder_search (stakeholder_search, rank) VALUES ('hashsize', 8388608)",
      "INSERT INTO stakeholder_search (rowid, email_key, name_key) SELECT rowid, email_key, name_key FROM stakeholders",
      "INSERT INTO stakeholder_search (stakeholder_search, rank) VALUES ('hashsize', 1048576)",
      "UPDATE directory_totals SET total = (SELECT COUNT(*) FROM stakeholders), generation = generation + 1 WHERE id = 1")
phase("attribute index",
      "INSERT INTO stakeholder_attributes (name, value, stakeholder_id) "
      "SELECT name, value, stakeholder_id FROM temp.staged_attributes ORDER BY rowid")
phase("counted values",
      "INSERT INTO attribute_values (name, value, people) "
      "SELECT name, value, people FROM temp.staged_values")
for _, sql in triggers:
    conn.execute(sql)
phase("statistics", "ANALYZE stakeholders", "ANALYZE stakeholder_attributes")
phase("commit", "COMMIT")
timings["total"] = time.perf_counter() - started
print("  ".join(f"{name} {seconds:.3f} s" for name, seconds in timings.items()))
