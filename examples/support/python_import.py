# The import benchmark's baseline: the same CSV into a SQLite stakeholders table (the
# product's columns, UNIQUE email) with Python's csv and sqlite3 modules, in one transaction,
# WAL + synchronous=FULL like the product. Attributes become a JSON object like the product
# stores them. Usage: python3 python_import.py FILE.csv DATABASE
import csv, json, sqlite3, sys, uuid, datetime

path, database = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(database, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = FULL")
conn.execute("""CREATE TABLE IF NOT EXISTS stakeholders (
    id TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL UNIQUE, name TEXT, language TEXT,
    attributes TEXT NOT NULL DEFAULT '{}', active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)""")
now = datetime.datetime.utcnow().isoformat(sep=" ")
with open(path, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    header = [h.strip().lower() for h in next(reader)]
    attributes = [(i, h) for i, h in enumerate(header) if h not in ("email", "name", "language")]
    email_i, name_i, language_i = header.index("email"), header.index("name"), header.index("language")
    def rows():
        for record in reader:
            attrs = {h: record[i].strip() for i, h in attributes if record[i].strip()}
            yield (str(uuid.uuid4()), record[email_i].strip(), record[name_i].strip() or None,
                   record[language_i].strip() or None, json.dumps(attrs, sort_keys=True), now, now)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO stakeholders (id, email, name, language, attributes, active, "
                     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)", rows())
    conn.execute("COMMIT")
