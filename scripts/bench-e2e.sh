#!/usr/bin/env bash
# bench-e2e.sh — end-to-end ingest rate with a publisher running at the same
# time: starts `plaint serve` on a fresh data directory, publishes a synthetic
# history with `plaint emit --synthetic` while the server ingests it, and
# reports the publish rate, the end-to-end rate (first publish to last event
# stored), the CPU each process used per event (user + system; steadier than
# the rates on a shared machine) and the server's peak RSS. Needs bin/plaint
# (make build) and curl.
#
#   scripts/bench-e2e.sh [CUSTOMERS] [MONTHS]      (default 20000 24, ~0.4M events)
#
# EMIT_ARGS adds flags to emit, e.g. EMIT_ARGS='--batch 65536' (fast batches).
set -euo pipefail
BIN=${PLAINT_BIN:-bin/plaint}
CUSTOMERS=${1:-20000}
MONTHS=${2:-24}
HTTP=127.0.0.1:${E2E_HTTP_PORT:-18480}
NATS=127.0.0.1:${E2E_NATS_PORT:-14480}
DATA=$(mktemp -d "${TMPDIR:-/tmp}/plaint-e2e.XXXXXX")
command -v curl >/dev/null || { echo "bench-e2e: needs curl" >&2; exit 1; }
[[ -x $BIN ]] || { echo "bench-e2e: $BIN not found; run make build" >&2; exit 1; }

"$BIN" serve --data "$DATA" --nats-listen "$NATS" --http "$HTTP" >"$DATA/serve.out" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 300); do curl -fsS "http://$HTTP/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

events() { curl -fsS "http://$HTTP/v1/stats" | tr -d ' \n' | sed -n 's/^{.*"events":\([0-9]*\).*/\1/p'; }
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14+$15)/hz}' /proc/$SERVER/stat; }
cpu0=$(server_cpu)
start=$(date +%s.%N)
TIMEFORMAT='%U %S'
{ time "$BIN" emit --nats-url "nats://$NATS" --synthetic --customers "$CUSTOMERS" --months "$MONTHS" --seed 7 ${EMIT_ARGS:-} 2>/dev/null >"$DATA/emit.out"; } 2>"$DATA/emit.time"
cat "$DATA/emit.out"
published=$(sed -n 's/^published \([0-9]*\) events.*/\1/p' "$DATA/emit.out")
while (( $(events) < published )); do sleep 0.05; done
end=$(date +%s.%N)
cpu1=$(server_cpu)
rss=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
read -r eu es <"$DATA/emit.time"
awk -v n="$published" -v s="$start" -v e="$end" -v rss="$rss" -v eu="$eu" -v es="$es" -v c0="$cpu0" -v c1="$cpu1" \
	-v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "end-to-end: %d events published and stored in %.2f s = %.0f events/s; server peak RSS %.0f MiB\n", n, e-s, n/(e-s), rss/1024
	printf "CPU: emit %.1f µs/event, server %.1f µs/event (load average %s)\n", (eu+es)*1e6/n, (c1-c0)*1e6/n, load }'
