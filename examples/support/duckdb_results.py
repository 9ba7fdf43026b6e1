# The results benchmark's baseline: DuckDB computing the results page's figures from the
# same counts Pulse reads (one row per wave, cell, question, value, n — exported by
# results_bench into a CSV and loaded into a DuckDB database file before timing).
#
# Timed, each run on a fresh connection to the file (cold, like Pulse's cold page): for the
# whole wave and for every group of every segment attribute (the cells' JSON parsed in the
# query): respondents, NPS with its adjusted-Wald interval, every dimension's mean, standard
# deviation and top-2-box share with its Wilson interval, CSAT with its Wilson interval,
# every pain point's share with its Wilson interval, every choice's share — all fetched.
# Not done by DuckDB (Pulse does it): the release plans and their audits, the changes and
# their tests, the page.
#
# Usage: python duckdb_results.py COUNTS.csv WORKDIR RUNS ATTRIBUTE... -- prints
# "median_ms min_ms rows".
import os, statistics, sys, time

import duckdb

counts_csv, workdir, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
attributes = sys.argv[4:]
database = os.path.join(workdir, "baseline.duckdb")
if os.path.exists(database):
    os.remove(database)
with duckdb.connect(database) as con:
    con.execute(
        "CREATE TABLE answer_counts AS SELECT * FROM read_csv(?, header = true, "
        "columns = {'cell': 'VARCHAR', 'question_key': 'VARCHAR', 'value': 'VARCHAR', 'n': 'BIGINT'})",
        [counts_csv],
    )

Z = 1.959963984540054
attribute_list = ", ".join("'" + a.replace("'", "''") + "'" for a in attributes)
QUERY = f"""
WITH cells AS (SELECT DISTINCT cell FROM answer_counts),
groups AS (
    SELECT cell, '' AS attribute, '' AS grp FROM cells
    UNION ALL
    SELECT cell, a AS attribute, json_extract_string(cell, '$.' || a) AS grp
    FROM cells, unnest([{attribute_list}]) AS t(a)
),
rolled AS (
    SELECT g.attribute, g.grp, c.question_key, c.value, SUM(c.n) AS n
    FROM answer_counts c JOIN groups g USING (cell)
    WHERE g.grp IS NOT NULL
    GROUP BY ALL
),
respondents AS (
    SELECT attribute, grp, SUM(n) AS r FROM rolled WHERE question_key = '_responses' GROUP BY ALL
),
nps AS (
    SELECT attribute, grp,
        SUM(n) FILTER (WHERE value IN ('9', '10')) AS p,
        SUM(n) FILTER (WHERE value IN ('0','1','2','3','4','5','6')) AS d,
        SUM(n) FILTER (WHERE value NOT IN ('_answered', 'na')) AS a
    FROM rolled WHERE question_key = 'recommend' GROUP BY ALL
),
nps_figures AS (
    SELECT *, 100.0 * (p - d) / a AS score,
        (p + 0.75) / (a + 3) AS pp, (d + 0.75) / (a + 3) AS pd
    FROM nps
),
likert AS (
    SELECT attribute, grp, question_key,
        SUM(n) AS n, SUM(n * CAST(value AS INTEGER)) AS s,
        SUM(n * CAST(value AS INTEGER) * CAST(value AS INTEGER)) AS ss,
        SUM(n) FILTER (WHERE CAST(value AS INTEGER) >= 4) AS top
    FROM rolled
    WHERE question_key LIKE 'q%' AND value NOT IN ('_answered', 'na')
    GROUP BY ALL
),
likert_figures AS (
    SELECT *, s / n AS mean, sqrt((ss - s * s / n) / greatest(n - 1, 1)) AS sd, top / n AS top2
    FROM likert
),
csat AS (
    SELECT attribute, grp, SUM(top) AS top, SUM(n) AS n FROM likert GROUP BY ALL
),
shares AS (
    SELECT r.attribute, r.grp, r.question_key, r.value, r.n AS k,
        CASE WHEN r.question_key = 'pain_points' THEN p.r ELSE ch.a END AS total
    FROM rolled r
    JOIN respondents p USING (attribute, grp)
    LEFT JOIN (SELECT attribute, grp, question_key, SUM(n) FILTER (WHERE value <> '_answered') AS a
               FROM rolled WHERE question_key IN ('frequency', 'role') GROUP BY ALL) ch
        USING (attribute, grp, question_key)
    WHERE r.question_key IN ('pain_points', 'frequency', 'role') AND r.value <> '_answered'
)
SELECT 'nps' AS figure, attribute, grp, NULL AS item, score AS value,
    100 * ((pp - pd) - {Z} * sqrt((pp + pd - (pp - pd) ^ 2) / (a + 3))) AS low,
    100 * ((pp - pd) + {Z} * sqrt((pp + pd - (pp - pd) ^ 2) / (a + 3))) AS high
FROM nps_figures
UNION ALL
SELECT 'mean', attribute, grp, question_key, mean,
    mean - {Z} * sd / sqrt(n), mean + {Z} * sd / sqrt(n) FROM likert_figures
UNION ALL
SELECT 'top2', attribute, grp, question_key, top2,
    (top2 + {Z}^2 / (2 * n) - {Z} * sqrt(top2 * (1 - top2) / n + {Z}^2 / (4 * n * n))) / (1 + {Z}^2 / n),
    (top2 + {Z}^2 / (2 * n) + {Z} * sqrt(top2 * (1 - top2) / n + {Z}^2 / (4 * n * n))) / (1 + {Z}^2 / n)
FROM likert_figures
UNION ALL
SELECT 'csat', attribute, grp, NULL, top / n,
    (top / n + {Z}^2 / (2 * n) - {Z} * sqrt(top / n * (1 - top / n) / n + {Z}^2 / (4 * n * n))) / (1 + {Z}^2 / n),
    (top / n + {Z}^2 / (2 * n) + {Z} * sqrt(top / n * (1 - top / n) / n + {Z}^2 / (4 * n * n))) / (1 + {Z}^2 / n)
FROM csat
UNION ALL
SELECT 'share', attribute, grp, question_key || ':' || value, k / total,
    (k / total + {Z}^2 / (2 * total) - {Z} * sqrt(k / total * (1 - k / total) / total + {Z}^2 / (4 * total * total))) / (1 + {Z}^2 / total),
    (k / total + {Z}^2 / (2 * total) + {Z} * sqrt(k / total * (1 - k / total) / total + {Z}^2 / (4 * total * total))) / (1 + {Z}^2 / total)
FROM shares
UNION ALL
SELECT 'respondents', attribute, grp, NULL, r, NULL, NULL FROM respondents
"""

times = []
rows = 0
for _ in range(runs):
    started = time.perf_counter()
    with duckdb.connect(database, read_only=True) as con:
        rows = len(con.execute(QUERY).fetchall())
    times.append((time.perf_counter() - started) * 1000)
print(f"{statistics.median(times):.1f} {min(times):.1f} {rows}")
