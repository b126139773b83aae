#!/usr/bin/env bash
# peers.sh — the month × category question asked of plaint, SQLite and DuckDB
# over the same events, measured in one run and printed side by side.
#
# Needs (nothing is installed unless you pass --install):
#   - go (builds and runs the plaint benchmark helpers)
#   - sqlite3 from the system's packages   (Debian: apt-get install sqlite3)
#   - node >= 18 and the npm package @duckdb/node-api in scripts/.peers
#       (npm install --prefix scripts/.peers @duckdb/node-api, or --install)
#
# Environment:
#   PLAINT_BENCH_EVENTS  events in the log (default 1000000; the issue's figure is 10000000)
#   PLAINT_BENCH_DIR     where the log, the CSV export and the peers' files go
#                        (default: a new temporary directory, removed at the end)
#   PLAINT_BENCH_BLOCKS  0 writes plaint's log in record format 2 (one value an
#                        event, as before blocks); unset or 1, in blocks (format 3,
#                        the default log). The logs are events-N.db and events-N-f2.db.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
peers="$here/.peers"
install=0
[[ "${1:-}" == "--install" ]] && install=1

need() { echo "peers.sh: missing $1" >&2; echo "  $2" >&2; exit 2; }
command -v go >/dev/null || need "go" "install Go 1.26"
command -v sqlite3 >/dev/null || need "sqlite3" "apt-get install sqlite3"
command -v node >/dev/null || need "node" "apt-get install nodejs (>= 18)"
if [[ ! -d "$peers/node_modules/@duckdb/node-api" ]]; then
	if [[ $install == 1 ]]; then
		echo "installing @duckdb/node-api into $peers (npm)" >&2
		npm install --silent --prefix "$peers" @duckdb/node-api >&2
	else
		need "@duckdb/node-api" "npm install --prefix $peers @duckdb/node-api   (or run: $0 --install)"
	fi
fi

n=${PLAINT_BENCH_EVENTS:-1000000}
dir=${PLAINT_BENCH_DIR:-}
if [[ -z "$dir" ]]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
export PLAINT_BENCH_EVENTS=$n PLAINT_BENCH_DIR=$dir
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "== generating $n events and exporting complaints (event time, category) to CSV" >&2
PLAINT_BENCH_EXPORT="$dir/events.csv" go test -C "$root" ./projections -count=1 -run '^TestHelperBenchExport$' >/dev/null
rows=$(wc -l <"$dir/events.csv")
log="$dir/events-$n.db"
format="blocks (format 3)"
if [[ "${PLAINT_BENCH_BLOCKS:-1}" == 0 ]]; then
	log="$dir/events-$n-f2.db"
	format="format 2"
fi

echo "== plaint: build of a new month × category trend (cold first when root can drop caches, then warm)" >&2
out=$(go test -C "$root" ./projections -count=1 -run '^$' -bench '^BenchmarkBuildMonthCategory$' -benchtime 1x)
metric() { echo "$out" | awk -v m="$1" '{ for (i = 2; i <= NF; i++) if ($i == m) print $(i-1) }'; }
plaint_warm=$(metric warm_s)
plaint_cold=$(metric cold_s)
plaint_rss=$(metric peak_rss_MB)
plaint_anon=$(metric heap_rss_MB)

echo "== SQLite $(sqlite3 --version | cut -d' ' -f1)" >&2
db="$dir/peers.sqlite"
rm -f "$db"
t0=$(now)
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE events (ts TEXT, category TEXT);
.mode csv
.import $dir/events.csv events
SQL
t1=$(now)
sqlite_load=$(secs "$t0" "$t1")
sqlite3 "$db" "SELECT count(*) FROM events" >/dev/null # warm the file
t0=$(now)
sqlite3 "$db" "SELECT substr(ts, 1, 7) AS month, category, count(*) FROM events GROUP BY month, category" >"$dir/sqlite.out"
t1=$(now)
sqlite_query=$(secs "$t0" "$t1")
sqlite_size=$(du -m "$db" | cut -f1)

echo "== DuckDB (npm @duckdb/node-api)" >&2
cat >"$peers/duck.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const [dbPath, csv] = process.argv.slice(2);
const inst = await DuckDBInstance.create(dbPath);
const con = await inst.connect();
let t = performance.now();
await con.run(`CREATE OR REPLACE TABLE events AS SELECT * FROM read_csv('${csv}', header = false, columns = {'ts': 'TIMESTAMP', 'category': 'VARCHAR'})`);
await con.run('CHECKPOINT');
const load = (performance.now() - t) / 1000;
const q = "SELECT date_trunc('month', ts) AS month, category, count(*) AS n FROM events GROUP BY ALL";
let best = Infinity, groups = 0;
for (let i = 0; i < 4; i++) {
	t = performance.now();
	const r = await con.runAndReadAll(q);
	best = Math.min(best, (performance.now() - t) / 1000);
	groups = r.getRows().length;
}
console.log(JSON.stringify({ load, query: best, groups }));
JS
duck=$(node "$peers/duck.mjs" "$dir/peers.duckdb" "$dir/events.csv")
duck_load=$(echo "$duck" | sed -E 's/.*"load":([0-9.]+).*/\1/' | xargs printf '%.3f')
duck_query=$(echo "$duck" | sed -E 's/.*"query":([0-9.]+).*/\1/' | xargs printf '%.3f')
duck_size=$(du -m "$dir/peers.duckdb" | cut -f1)

# DuckDB cold, measured as plaint's is: the page cache dropped before the
# process starts (needs root), then the database opened (not timed, as
# plaint's log open is not) and the same query asked once, timed.
cat >"$peers/duck-cold.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const [dbPath] = process.argv.slice(2);
const inst = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
const con = await inst.connect();
const q = "SELECT date_trunc('month', ts) AS month, category, count(*) AS n FROM events GROUP BY ALL";
const t = performance.now();
const r = await con.runAndReadAll(q);
console.log(JSON.stringify({ query: (performance.now() - t) / 1000, groups: r.getRows().length }));
JS
duck_cold=n/a
if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
	duck_cold=$(node "$peers/duck-cold.mjs" "$dir/peers.duckdb" | sed -E 's/.*"query":([0-9.]+).*/\1/' | xargs printf '%.3f')
fi

log_size=$(du -m "$log" | cut -f1)
printf '\n%s events in the log (%s complaints; plaint log in %s), question: complaints GROUP BY month, category\n\n' "$n" "$rows" "$format"
printf '%-34s %12s %12s %10s\n' "engine" "query (s)" "load (s)" "file (MB)"
printf '%-34s %12s %12s %10s\n' "plaint (new projection, warm)" "$plaint_warm" "-" "$log_size"
printf '%-34s %12s %12s %10s\n' "plaint (new projection, cold)" "${plaint_cold:-n/a}" "-" "$log_size"
printf '%-34s %12s %12s %10s\n' "SQLite GROUP BY" "$sqlite_query" "$sqlite_load" "$sqlite_size"
printf '%-34s %12s %12s %10s\n' "DuckDB GROUP BY (best of 4)" "$duck_query" "$duck_load" "$duck_size"
printf '%-34s %12s %12s %10s\n' "DuckDB GROUP BY (cold, one run)" "$duck_cold" "-" "$duck_size"
printf '\nplaint build peak RSS: %s MB, of which the memory-mapped log file is most; anonymous (heap) RSS after the builds: %s MB.\nCold = page cache dropped before the process starts (needs root), else n/a; the open is not timed, the first build or query is.\n' "$plaint_rss" "$plaint_anon"
