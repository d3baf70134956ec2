#!/bin/sh
# heartbeat-loop.sh PRESENCE: the heartbeat loop of one presence (one session in one Claude Code; see
# common.sh), run detached by start.sh. Sends a heartbeat at once and then one per interval while a
# file of the presence names it and the Claude Code process lives; when that process is gone without
# a SessionEnd (crash, kill -9) the loop sends stop and ends.
#
# Handover. /clear and an in-session /resume end a session and start another in the same process at
# once. stop.sh then renames the pid file to the ending file and wakes the loop, which goes on
# heartbeating, so the process never looks offline, until the first of: the next session's loop has
# had its first heartbeat answered (it sends USR2), that session has ended too (stop.sh sends USR2),
# the Claude Code is gone, or HANDOVER_SECONDS have passed (seen at its next wake). Then it sends
# its own stop and ends.
#
# Signals: USR1 wakes the loop to look at its files and its Claude Code again; USR2 ends it if its
# presence is ending; TERM ends it without a stop (whoever sends it sees to the rest). Trapped before
# anything else, as their default action would kill the loop.
trap 'woken=1' USR1
trap 'woken=1 handed_over=1' USR2
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
cd / || exit 0 # a daemon must not pin the project directory
set_presence_from_name "$1" || exit 0

interval=${CC_LIVE_INTERVAL_SECONDS:-30}
case $interval in
  *[!0-9.]* | *.*.* | . | *.) interval=0 ;;
esac
case $interval in
  *[1-9]*) ;;
  *) log "CC_LIVE_INTERVAL_SECONDS must be a positive number of seconds; using 30"; interval=30 ;;
esac
# An ending presence looks again at least every HANDOVER_SECONDS, whatever the interval.
interval_seconds=${interval%%.*}
if [ "${interval_seconds:-0}" -lt "$HANDOVER_SECONDS" ] 2>/dev/null; then
  ending_interval=$interval
else
  ending_interval=$HANDOVER_SECONDS
fi

names_me () {
  read_pid "$1" && [ "$file_pid" = "$$" ]
}

# Removes the presence's files that name this loop: never one that start.sh has since given to a
# loop of its own.
release () {
  for file in "$pid_file" "$ending_file"; do
    names_me "$file" && rm -f "$file"
  done
}

end () {
  release
  post stop
  exit 0
}

# Sleeps for $1 seconds, or less when woken. A signal in the instant between the check and `wait`
# is seen at the next wake instead.
nap () {
  if [ -z "${woken:-}" ]; then
    sleep "$1" &
    nap_pid=$!
    # Interrupted by a signal, wait returns before the sleep has ended: end it too.
    [ -n "${woken:-}" ] || wait "$nap_pid" || kill "$nap_pid" 2>/dev/null
  fi
  woken=
}

# Files of loops that died without cleaning up (kill -9, a reboot), unfinished writes, and anything
# else at those names (a symlink, say). Only dead pids: a live one may be a loop between fork and
# exec, and a reused pid misleads nobody, as running_loop checks the command line. One rm for all.
sweep_stale () {
  set --
  for file in "$state_dir"/*.pid "$state_dir"/*.ending "$state_dir"/*.pid.* \
    "$state_dir"/.*.pid "$state_dir"/.*.ending "$state_dir"/.*.pid.*; do
    [ -e "$file" ] || [ -L "$file" ] || continue
    case $file in
      *.pid | *.ending) read_pid "$file" && proc_alive "$file_pid" && continue ;;
      *) stale_pid=${file##*.}; case $stale_pid in '' | *[!0-9]*) ;; *) proc_alive "$stale_pid" && continue ;; esac ;;
    esac
    set -- "$@" "$file"
  done
  [ "$#" -eq 0 ] || rm -f "$@"
}

# The same session in Claude Codes that are gone (this one resumed it after a crash): their loops,
# woken, find their owner gone and end now rather than at their next interval. A presence whose
# Claude Code still runs is its own and is left alone.
wake_orphans () {
  for file in "$state_dir/$session_id:"*.pid; do
    other=${file##*/}
    other=${other%.pid}
    [ "${other%:*}" = "$session_id" ] && [ "$other" != "$presence" ] && ! proc_alive "${other##*:}" &&
      running_loop "$file" && kill -USR1 "$loop_pid" 2>/dev/null
  done
}

trap release EXIT
trap 'exit 0' TERM
trap '' HUP INT
# start.sh names this loop in the pid file right after starting it; give it a moment to.
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  names_me "$pid_file" || names_me "$ending_file" && break
  sleep 0.05
done
heard= # whether the server has answered a heartbeat of this loop
swept=
while :; do
  if names_me "$pid_file"; then
    nap_seconds=$interval
  elif names_me "$ending_file"; then
    [ -z "${handed_over:-}" ] || end
    now=$(date +%s)
    ending_deadline=${ending_deadline:-$((now + HANDOVER_SECONDS))}
    if [ "$now" -ge "$ending_deadline" ]; then
      log "no next session of Claude Code $owner was heard within $HANDOVER_SECONDS s: ending the session"
      end
    fi
    nap_seconds=$ending_interval
  else
    exit 0 # stopped by stop.sh, or superseded by start.sh: neither wants a stop from here
  fi
  if post heartbeat && [ -z "$heard" ]; then
    heard=1
    # Live on the server now: the presences this one replaces can go without a gap.
    end_handovers
    wake_orphans
  fi
  [ -n "$swept" ] || { swept=1; sweep_stale; } # once, and not before the first heartbeat
  nap "$nap_seconds"
  if ! proc_alive "$owner"; then
    if names_me "$ending_file"; then
      log "Claude Code $owner is gone before its next session was heard: ending the session"
    else
      log "Claude Code $owner is gone without a SessionEnd: ending the session"
    fi
    end
  fi
done
