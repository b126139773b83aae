#!/usr/bin/env bash
# demo.sh — what `make demo` runs (after `make build`): start plaint serve,
# publish a synthetic history through NATS, show /v1/stats, keep serving.
#
#   scripts/demo.sh [DATA_DIR]        (default: a fresh temporary directory,
#                                      removed when the demo stops)
#
# Environment: PLAINT_BIN (default bin/plaint), DEMO_HTTP (127.0.0.1:8080),
# DEMO_NATS (127.0.0.1:4222), DEMO_CUSTOMERS (1400), DEMO_MONTHS (18),
# DEMO_SEED (1).
set -euo pipefail

BIN=${PLAINT_BIN:-bin/plaint}
HTTP=${DEMO_HTTP:-127.0.0.1:8080}
NATS=${DEMO_NATS:-127.0.0.1:4222}
CUSTOMERS=${DEMO_CUSTOMERS:-1400}
MONTHS=${DEMO_MONTHS:-18}
SEED=${DEMO_SEED:-1}

if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
	echo "demo: needs curl or wget to talk to the HTTP API (apt-get install curl)" >&2
	exit 1
fi
if [[ ! -x $BIN ]]; then
	echo "demo: $BIN not found; run 'make build' (or 'make demo')" >&2
	exit 1
fi
TEMP_DATA=
if [[ -n ${1:-} ]]; then
	DATA=$1
else
	DATA=$(mktemp -d "${TMPDIR:-/tmp}/plaint-demo.XXXXXX")
	TEMP_DATA=$DATA
fi
mkdir -p "$DATA"

echo "demo: starting plaint serve (data $DATA, NATS $NATS, HTTP $HTTP)"
"$BIN" serve --data "$DATA" --nats-listen "$NATS" --http "$HTTP" &
SERVER=$!
stop() {
	if kill -0 "$SERVER" 2>/dev/null; then
		kill -TERM "$SERVER" 2>/dev/null || true
		wait "$SERVER" 2>/dev/null || true
	fi
	if [[ -n $TEMP_DATA ]]; then
		rm -rf "$TEMP_DATA"
		echo "demo: removed the temporary data directory $TEMP_DATA"
		TEMP_DATA=
	fi
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

get() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS "$1"
	else
		wget -qO- "$1"
	fi
}

ready=
for _ in $(seq 1 300); do
	if ! kill -0 "$SERVER" 2>/dev/null; then
		echo "demo: plaint serve exited before it was ready" >&2
		exit 1
	fi
	if get "http://$HTTP/readyz" >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.1
done
if [[ -z $ready ]]; then
	echo "demo: plaint serve not ready on http://$HTTP/readyz after 30s" >&2
	exit 1
fi

echo "demo: publishing a synthetic history ($CUSTOMERS customers, $MONTHS months, seed $SEED)"
EMIT_OUT=$(mktemp "${TMPDIR:-/tmp}/plaint-demo-emit.XXXXXX")
"$BIN" emit --nats-url "nats://$NATS" --synthetic --customers "$CUSTOMERS" --months "$MONTHS" --seed "$SEED" | tee "$EMIT_OUT"
published=$(sed -n 's/^published \([0-9]*\) events.*/\1/p' "$EMIT_OUT")
rm -f "$EMIT_OUT"

# JetStream has acknowledged every event; wait (up to 30s) for the ingest to
# append them to the log before showing the numbers.
statfield() { get "http://$HTTP/v1/stats" | tr -d ' \n' | sed -n "s/^{.*\"$1\":\([0-9]*\).*/\1/p"; }
for _ in $(seq 1 150); do
	seen=$(( $(statfield events || echo 0) + $(statfield duplicates || echo 0) + $(statfield dead_lettered || echo 0) ))
	if (( seen >= ${published:-0} )); then
		break
	fi
	sleep 0.2
done
if (( seen < ${published:-0} )); then
	echo "demo: the log holds $seen of $published events so far; ingest is still catching up"
fi
echo "demo: GET http://$HTTP/v1/stats"
get "http://$HTTP/v1/stats"
echo
echo "demo: plaint trend --by category (the last 12 months)"
"$BIN" trend --server "http://$HTTP" --by category || true
echo
echo "demo: try  $BIN trend --server http://$HTTP --by category,segment --format csv"
echo "      or   curl 'http://$HTTP/v1/trends?by=channel&format=json'"
if [[ -n $TEMP_DATA ]]; then
	echo "demo: plaint is serving on http://$HTTP (data in $DATA, removed when it stops); Ctrl-C stops it."
else
	echo "demo: plaint is serving on http://$HTTP (data in $DATA); Ctrl-C stops it."
fi
wait "$SERVER"
