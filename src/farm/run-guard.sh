#!/bin/sh
# The guard of one encoder run in a farm (started by run-guards.ts): a process of its own, outside
# the daemon, that ends the run's processes (found by their run tag in /proc/*/environ) once the
# deadline in its file passes, and at once when the daemon is gone; it leaves quietly when the file
# is removed (the run ended by itself). The daemon moves the deadline on at each lease renewal; a
# daemon frozen, cut off from the database or dead cannot, so the run ends before the lease can run
# out and another host starts the job. A shell script, not Node: it starts in a millisecond and
# forks only its sleep, so a short job pays nothing for it.
# Deadlines are /proc/uptime in hundredths of a second: a clock that no wall-clock step moves.
# usage: run-guard.sh <run tag> <deadline file> <grace ms> <daemon pid>
tag=$1 file=$2 grace_ms=$3 daemon=$4

uptime_cs() {
  read -r up _ < /proc/uptime
  now=${up%.*}${up#*.}
}

tagged() {
  grep -lzxF "ENCSUP_RUN=$tag" /proc/[0-9]*/environ 2>/dev/null | sed 's#^/proc/\([0-9]*\)/environ$#\1#'
}

# TERM, then KILL what is left after the grace, a few rounds (a process may start another while it
# is ended; that one carries the tag too).
end_run() {
  pids=$(tagged)
  [ -z "$pids" ] && exit 0
  kill -TERM $pids 2>/dev/null
  waited=0
  while [ "$waited" -lt "$grace_ms" ]; do
    sleep 0.1
    waited=$((waited + 100))
    [ -z "$(tagged)" ] && exit 0
  done
  for _ in 1 2 3; do
    pids=$(tagged)
    [ -z "$pids" ] && exit 0
    kill -KILL $pids 2>/dev/null
    sleep 0.1
  done
  exit 0
}

while :; do
  read -r deadline < "$file" 2>/dev/null || exit 0
  uptime_cs
  [ "$now" -ge "$deadline" ] && end_run
  kill -0 "$daemon" 2>/dev/null || end_run
  sleep 0.2
done
