#!/usr/bin/env bash
# active-heal.sh: time for an active pair to converge after a split brain.
#
# Starts two fluidb nodes (active-replica yes) on PORT_A/PORT_B, pairs them,
# splits them (REPLICAOF NO ONE on both), writes N keys on each side (the
# same key names, different values: every key diverges), heals them
# (REPLICAOF each other again) and reports the milliseconds until both
# DEBUG DIGESTs are equal, plus the bytes on the link per replicated SET.
# BACKLOG decides the path: a backlog that holds the partition's writes
# heals by partial resync, the default 1mb by a full-sync merge.
#
#   FLUIDB=./fluidb N=100000 BACKLOG=1mb PORT_A=7301 PORT_B=7302 docs/bench/active-heal.sh
set -eu
FLUIDB=${FLUIDB:-fluidb}; N=${N:-100000}; BACKLOG=${BACKLOG:-1mb}
A=${PORT_A:-7301}; B=${PORT_B:-7302}
dir=$(mktemp -d); trap 'redis-cli -p $A shutdown nosave >/dev/null 2>&1; redis-cli -p $B shutdown nosave >/dev/null 2>&1; rm -rf "$dir"' EXIT
for p in $A $B; do
  mkdir -p "$dir/$p"
  (cd "$dir/$p" && exec "$FLUIDB" serve --port $p --save '' --active-replica yes --repl-backlog-size $BACKLOG >log 2>&1 &)
done
until redis-cli -p $A ping >/dev/null 2>&1 && redis-cli -p $B ping >/dev/null 2>&1; do sleep 0.05; done
now() { date +%s%3N; }
linked() { [ "$(redis-cli -p $1 info replication | tr -d '\r' | grep -c '^master_link_status:up')" = 1 ]; }
pair() { redis-cli -p $B replicaof 127.0.0.1 $A >/dev/null; redis-cli -p $A replicaof 127.0.0.1 $B >/dev/null
  until linked $A && linked $B; do sleep 0.02; done; }
digest() { redis-cli -p $1 debug digest; }
load() { # port value-prefix
  awk -v n="$N" -v v="$2" 'BEGIN{ for(i=0;i<n;i++){ k="key:" i; val=v i;
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(val), val } }' | redis-cli -p $1 --pipe >/dev/null; }
field() { redis-cli -p $1 info fluidb | tr -d '\r' | sed -n "s/^$2://p"; }

pair
# Bytes on the link per replicated small SET (key:N -> 3-byte value).
o0=$(field $A active_repl_offset)
redis-benchmark -p $A -t set -n 100000 -r 100000 -q >/dev/null
o1=$(field $A active_repl_offset)
echo "bytes_per_set=$(( (o1 - o0) / 100000 ))"
redis-cli -p $A flushall >/dev/null; sleep 0.5

redis-cli -p $A replicaof no one >/dev/null; redis-cli -p $B replicaof no one >/dev/null
load $A a; load $B b
ps=$(redis-cli -p $A info stats | tr -d '\r' | sed -n 's/^sync_partial_ok://p')
t0=$(now); pair; t1=$(now)
while [ "$(digest $A)" != "$(digest $B)" ]; do sleep 0.01; done
t2=$(now)
pe=$(redis-cli -p $A info stats | tr -d '\r' | sed -n 's/^sync_partial_ok://p')
path=full; [ "$pe" != "$ps" ] && path=partial
echo "divergent_keys=$N backlog=$BACKLOG heal_path=$path links_up_ms=$((t1-t0)) converged_ms=$((t2-t0)) keys_a=$(redis-cli -p $A dbsize) keys_b=$(redis-cli -p $B dbsize) conflicts_a=$(field $A conflicts) conflicts_b=$(field $B conflicts)"
