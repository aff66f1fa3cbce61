#!/usr/bin/env bash
# Daily-pages load benchmark (issues 8 and 17): one account with 50 feeds and 5,000
# captions, on SQLite and on PostgreSQL; wrk at 64 connections against every page a
# subscriber opens daily (the desk /captions, one feed's page with its 105 captions, the
# feeds list, the templates, the settings) and, in the same run, against /healthz (one
# database round trip, no template) as the reference, so the figures mean something on a
# shared, noisy machine; then the time of one desk page rendered afresh, as after a change.
# Ends with one line per backend and page: requests/s and p99, against the 20 ms target.
#
# Usage: benches/dashboard-load.sh [DURATION]   (default 15s)
#   BENCH_POSTGRES_URL   server to create a scratch database on
#                        (default postgres://postgres@127.0.0.1:5432/test)
#   BENCH_BACKENDS       "sqlite postgres" (default) or one of them
#   BENCH_PAGES          the pages to load (default: all of the above)
#   BENCH_BIN_DIR        use the captionfeed and examples/seed_dashboard found there
#                        instead of building the release (to compare two commits)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15s}
pg_base=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
backends=${BENCH_BACKENDS:-sqlite postgres}
pages=${BENCH_PAGES:-/healthz /captions FEED /feeds /templates /settings}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
work=$(mktemp -d)
# Copies: the target folder may be shared with other builds that replace these files.
target=$work/bin
mkdir -p "$target/examples"
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  # Binaries built elsewhere (another commit, to compare back to back): BENCH_BIN_DIR
  # holds captionfeed and examples/seed_dashboard.
  built=$BENCH_BIN_DIR
else
  cargo build --release --quiet --bin captionfeed --example seed_dashboard
  # Where cargo put the build: CARGO_TARGET_DIR or a cargo config may move it from target/.
  built=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
fi
cp "$built/captionfeed" "$target/"
cp "$built/examples/seed_dashboard" "$target/examples/"
server=
pg_db=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$pg_db" ] && psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
summary=

for backend in $backends; do
  if [ "$backend" = sqlite ]; then
    url="sqlite://$work/bench.db"
  else
    pg_db="cf_bench_$$"
    psql -q "$pg_base" -c "CREATE DATABASE $pg_db"
    url="${pg_base%/*}/$pg_db"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export CAPTIONFEED_DATABASE_URL=$url CAPTIONFEED_BIND=127.0.0.1:$port \
         CAPTIONFEED_BASE_URL=http://127.0.0.1:$port/ CAPTIONFEED_LOG=warn
  token=$("$target/examples/seed_dashboard")
  # Steady state: autovacuum would have analyzed the tables; fresh from seeding the planner
  # guesses 31 captions instead of 5,000 and sorts the whole join (14 ms instead of 1 ms).
  if [ "$backend" = postgres ]; then psql -q "$url" -c ANALYZE; fi
  "$target/captionfeed" serve >"$work/serve-$backend.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  page=$(curl -s -H "Cookie: cf_session=$token" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/captions" | wc -c)
  plain=$(curl -s -H "Cookie: cf_session=$token" "http://127.0.0.1:$port/captions" | wc -c)
  echo "== $backend: /captions is $plain bytes ($page gzipped); pool ${CAPTIONFEED_DATABASE_POOL_SIZE:-8}"
  # One feed's page lists its 105 captions: what a dashboard paged at 15 posts would cost.
  feed=$(curl -s -H "Cookie: cf_session=$token" "http://127.0.0.1:$port/feeds" | grep -o 'href="/feeds/[0-9a-f]\{32\}"' | head -1 | cut -d'"' -f2)
  for path in $pages; do
    [ "$path" = FEED ] && path=$feed
    label=$path; [ "$path" = "$feed" ] && label="/feeds/{id}"
    echo "-- $backend $label"
    wrk -t2 -c64 -d"$duration" --latency -H "Cookie: cf_session=$token" -H 'Accept-Encoding: gzip' \
        "http://127.0.0.1:$port$path" | tee "$work/wrk.out" | grep -E 'Requests/sec|99%|50%|Non-2xx|Socket errors'
    # wrk prints p99 as 12.34ms, 1.20s or 850.00us.
    p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.1f", v }' "$work/wrk.out")
    rps=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$work/wrk.out")
    errors=$(awk '$1 == "Non-2xx" { print $NF }' "$work/wrk.out")
    verdict=$(awk -v p="$p99" 'BEGIN { print (p < 20 ? "under 20 ms" : "OVER 20 ms") }')
    summary+=$(printf '%-8s %-14s %7s req/s  p99 %7s ms  %s%s' "$backend" "$label" "$rps" "$p99" "$verdict" "${errors:+  ($errors non-2xx)}")$'\n'
  done
  # A page rendered afresh, as after any change: the desk version is raised, then one
  # request alone (no other load), ten times; the median.
  if [ "$backend" = sqlite ]; then bump=(sqlite3 "$work/bench.db"); else bump=(psql -q "$url" -c); fi
  for _ in $(seq 1 10); do
    "${bump[@]}" "UPDATE desk_versions SET version = version + 1" >/dev/null
    # On PostgreSQL the server learns of the change by notification, within 50 ms.
    sleep 0.1
    curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: cf_session=$token" -H 'Accept-Encoding: gzip' \
        "http://127.0.0.1:$port/captions"
  done | sort -n | sed -n 5p | awk -v b="$backend" '{ printf "-- %s /captions rendered after a change: %.1f ms alone\n", b, $1 * 1000 }'
  kill "$server"; wait "$server" 2>/dev/null || true; server=
  if [ "$backend" = postgres ]; then psql -q "$pg_base" -c "DROP DATABASE $pg_db WITH (FORCE)"; pg_db=; fi
done
echo
echo "== p99 at 64 connections, ${duration} each (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s' "$summary"
