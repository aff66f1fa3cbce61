#!/usr/bin/env bash
# The poller as a black box, against the alternative a user would pick (issue 21).
#
# nginx serves N RSS feeds of about 27 KB (21 items, each with a 160-word description),
# spread over 64 loopback addresses so the per-host limit never binds. The release
# binary's worker (`CAPTIONFEED_ROLE=worker`) follows them all and is timed from its start
# until the database holds every feed's result; beside it, in the same run and on the same
# files, a Python poller on fastfeedparser from PyPI (benches/peer/poll.py, 16 threads,
# conditional GET, parse, dedupe by id, one caption per platform). Three cycles:
#   first     every item is new (captionfeed stores all posts and captions its backfill;
#             the peer stores nothing but its validators and seen ids)
#   changed   every feed has one new item
#   unchanged nothing changed: every feed answers 304
# Prints feeds/s for both, the ratio and each process's peak RSS; no verdicts, since the
# machine is shared. On SQLite the worker copies its write-ahead log back into the database
# once a pass is over; no result waits for that, so it is not in the time: its own figure is
# printed as "log copy" (and its CPU is in "cf CPU").
#
# Usage: benches/poll-vs-python.sh          (2,000 feeds, SQLite then PostgreSQL)
#   BENCH_FEEDS         number of feeds (default 2000)
#   BENCH_BACKENDS      "sqlite postgres" (default) or one of them
#   BENCH_POSTGRES_URL  server to create a scratch database on
#                       (default postgres://postgres@127.0.0.1:5432/test)
#   BENCH_DB_PREFIX     the scratch PostgreSQL database's name before the process id
#                       (default cf_poll_bench), so runs of several people tell theirs apart
#   BENCH_BIN_DIR       a folder holding `captionfeed` and `seed_feeds` built elsewhere
#                       (another commit, say); by default this checkout's release build
#   BENCH_PROFILE       a folder: the whole machine is sampled with `perf record -a -g` during
#                       each cycle of the worker, into BACKEND-CYCLE.perf.data there (read
#                       with `perf report -i FILE --sort comm,dso`): the database server's
#                       share shows beside the worker's, and so does idle time
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${BENCH_FEEDS:-2000}
backends=${BENCH_BACKENDS:-sqlite postgres}
pg_base=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt-get install -y nginx-light >/dev/null
command -v sqlite3 >/dev/null || apt-get install -y sqlite3 >/dev/null
python3 -c 'import fastfeedparser' 2>/dev/null || pip install -q fastfeedparser==0.6.5
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  cp "$BENCH_BIN_DIR/captionfeed" "$BENCH_BIN_DIR/seed_feeds" "$work/"
else
  cargo build --release --quiet --bin captionfeed --example seed_feeds
  built=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
  # Copies: the target folder may be shared with other builds that replace these files.
  cp "$built/captionfeed" "$built/examples/seed_feeds" "$work/"
fi
nginx_pid= worker= pg_db= profiler=
cleanup() {
  [ -n "$profiler" ] && kill -INT "$profiler" 2>/dev/null || true
  [ -n "$worker" ] && kill "$worker" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  [ -n "$pg_db" ] && psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT

# The feeds: version V of feed i has items V-20..V, newest first.
write_feeds() {
  python3 - "$work/www" "$feeds" "$1" <<'EOF'
import os, sys
root, n, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{root}/f", exist_ok=True)
words = ("feeds captions posts readers writing platforms schedule links summary weekly "
         "notes release update garden kitchen travel photos project community design").split()
def description(i, k):
    return " ".join(words[(i * 7 + k * 3 + j * j) % len(words)] for j in range(160)).capitalize() + "."
for i in range(n):
    items = "".join(
        f"<item><title>Post {k} of blog {i}: notes on {words[k % len(words)]}</title>"
        f"<link>https://blog{i}.example/posts/{k}</link><guid>https://blog{i}.example/posts/{k}</guid>"
        f"<pubDate>Mon, 16 Nov 2026 10:{k % 60:02d}:00 +0000</pubDate>"
        f"<description>&lt;p&gt;{description(i, k)}&lt;/p&gt;</description></item>"
        for k in range(version, version - 21, -1))
    with open(f"{root}/f/{i}.xml", "w") as f:
        os.fchmod(f.fileno(), 0o644)
        f.write(f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Blog {i}</title><link>https://blog{i}.example/</link>"
                f"<description>A blog</description>{items}</channel></rss>")
EOF
}
write_feeds 100
# nginx's workers run as another user: let them through to the files.
chmod 755 "$work"
echo "feeds: $feeds of $(( $(stat -c %s "$work/www/f/0.xml") / 1024 )) KB over 64 loopback addresses"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  echo "worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; types { application/rss+xml xml; } server {"
  for h in $(seq 1 64); do echo "listen 127.0.0.$h:$port;"; done
  echo "root $work/www; } }"
} >"$work/nginx.conf"
"$nginx_bin" -c "$work/nginx.conf" -e "$work/nginx-error.log" &
nginx_pid=$!
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/f/0.xml" && break; sleep 0.1; done
for i in $(seq 0 $((feeds - 1))); do echo "http://127.0.0.$(( i % 64 + 1 )):$port/f/$i.xml"; done >"$work/urls.txt"

rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
# What the awk PROGRAM (and its options) prints from the worker's LOG as the worker (PID)
# writes it: awk stops at its first answer; nothing once SECONDS pass (0: no limit) or the
# worker stops. `tail -f` sleeps until the log grows (inotify), so the wait costs the
# machine nothing: starting awk and sleep every 20 ms instead took about a tenth of its two
# cores while the worker ran.
follow_log() {
  local log=$1 pid=$2 within=$3
  shift 3
  awk "$@" < <(exec timeout "$within" tail -n +1 -f --pid="$pid" "$log")
}
# Seconds from START (epoch) to the worker's "poll pass" line (in LOG) at which the feeds
# checked add up to all of them; fails if the worker (PID) stopped first.
pass_done() {
  local at
  at=$(follow_log "$1" "$3" 0 -v feeds="$feeds" 'index($0, "poll pass checked=") {
      checked += substr($0, index($0, "checked=") + 8) + 0
      if (checked >= feeds) { print $1; exit }
    }')
  [ -n "$at" ] && python3 -c "import datetime; print(datetime.datetime.fromisoformat('${at%Z}+00:00').timestamp() - $2)"
}

for backend in $backends; do
  write_feeds 100
  if [ "$backend" = sqlite ]; then
    url="sqlite://$work/bench.db"; sql=(sqlite3 -cmd '.timeout 2000' "$work/bench.db")
  else
    pg_db="${BENCH_DB_PREFIX:-cf_poll_bench}_$$"
    psql -q "$pg_base" -c "CREATE DATABASE $pg_db"
    url="${pg_base%/*}/$pg_db"; sql=(psql -qtA "$url" -c)
  fi
  export CAPTIONFEED_DATABASE_URL=$url CAPTIONFEED_ALLOW_PRIVATE_NETWORKS=true \
         CAPTIONFEED_POLL_INTERVAL=1h CAPTIONFEED_ROLE=worker \
         CAPTIONFEED_LOG=warn,captionfeed::poller=info NO_COLOR=1
  "$work/seed_feeds" <"$work/urls.txt"
  if [ "$backend" = postgres ]; then "${sql[@]}" ANALYZE >/dev/null; fi
  rm -f "$work/peer-state.json"
  echo "== $backend"
  printf '%-10s %14s %14s %7s %16s %12s %8s %9s\n' cycle captionfeed/s peer/s ratio "captionfeed RSS" "peer RSS" "cf CPU" "log copy"
  for cycle in first changed unchanged; do
    [ "$cycle" = changed ] && write_feeds 101
    "${sql[@]}" "UPDATE feeds SET next_check_at = '2000-01-01 00:00:00'" >/dev/null
    # The log exists before the worker starts, for the wait below to follow it.
    log="$work/worker-$backend-$cycle.log"
    : >"$log"
    start=$(date +%s.%N)
    "$work/captionfeed" serve >"$log" 2>&1 &
    worker=$!
    if [ -n "${BENCH_PROFILE:-}" ]; then
      mkdir -p "$BENCH_PROFILE"
      perf record -q -F 999 -g -a -o "$BENCH_PROFILE/$backend-$cycle.perf.data" 2>/dev/null &
      profiler=$!
    fi
    # Done at the "poll pass" line that brings the feeds checked to all of them: a pass
    # logs it after its last write committed. Its own timestamp ends the figure, so the
    # look at the log is not in it.
    took=$(pass_done "$log" "$start" "$worker") || { cat "$log"; exit 1; }
    # Each feed's result and its next check are written in one transaction: none is due.
    due=$("${sql[@]}" "SELECT count(*) FROM feeds WHERE next_check_at < '2001-01-01'")
    [ "$due" = 0 ] || { echo "the worker said it was done with $due feeds still due"; exit 1; }
    # On SQLite the worker copies its write-ahead log back once the pass is over (not
    # timed above: no result waits for it); its own line says how long that took.
    copy=-
    if [ "$backend" = sqlite ]; then
      copy=$(follow_log "$log" "$worker" 10 'index($0, "copied the write-ahead log back") {
          sub(/.*took_ms=/, ""); print $1 + 0; exit
        }')
      copy="${copy:-?} ms"
    fi
    rss=$(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$worker/status")
    # The worker's own CPU time (user + system): beside the wall time, how much it waited.
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$worker/stat")
    if [ -n "$profiler" ]; then kill -INT "$profiler" 2>/dev/null || true; wait "$profiler" || true; profiler=; fi
    kill "$worker"; wait "$worker" 2>/dev/null || true; worker=
    /usr/bin/time -o "$work/peer.time" -f '%e %M' python3 benches/peer/poll.py \
      "$work/peer-state.json" "$work/urls.txt" >"$work/peer.out" 2>"$work/peer.err" ||
      { cat "$work/peer.err"; exit 1; }
    peer=$(tail -1 "$work/peer.time")
    peer_took=${peer% *}; peer_rss=$(( ${peer#* } / 1024 ))
    ours=$(rate "$feeds" "$took"); theirs=$(rate "$feeds" "$peer_took")
    ratio=$(python3 -c "print(f'{$peer_took / $took:.2f}x')")
    printf '%-10s %14s %14s %7s %16s %12s %7ss %9s   (peer: %s)\n' "$cycle" "$ours" "$theirs" "$ratio" "$rss" "$peer_rss MiB" "$cpu" "$copy" "$(cat "$work/peer.out")"
  done
  posts=$("${sql[@]}" "SELECT count(*) FROM posts"); captions=$("${sql[@]}" "SELECT count(*) FROM captions")
  echo "captionfeed stored $posts posts and $captions captions"
  if [ "$backend" = postgres ]; then psql -q "$pg_base" -c "DROP DATABASE $pg_db WITH (FORCE)"; pg_db=; fi
done
