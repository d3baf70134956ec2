#!/bin/sh
# heartbeat-loop.sh SESSION_NAME OWNER_PID: one session's heartbeat loop, run detached by start.sh.
# Sends a heartbeat at once and then one per interval while the Claude Code process OWNER_PID lives;
# when it is gone without a SessionEnd (crash, kill -9) the loop sends stop and ends.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
cd / || exit 0 # a daemon must not pin the project directory
set_session_from_name "$1" || exit 0
owner=$2

interval=${CC_LIVE_INTERVAL_SECONDS:-30}
case $interval in
  *[!0-9.]* | *.*.* | . | *.) interval=0 ;;
esac
case $interval in
  *[1-9]*) ;;
  *) log "CC_LIVE_INTERVAL_SECONDS must be a positive number of seconds; using 30"; interval=30 ;;
esac

# Whether the session's pid file still names this loop: start.sh writes it, stop.sh removes it, and
# a Claude Code resuming the session (after the one that ran it crashed) replaces it.
named () {
  { read -r named_pid _ <"$pid_file"; } 2>/dev/null && [ "$named_pid" = "$$" ]
}

release () {
  named && rm -f "$pid_file"
}

# Pid files of loops that died without cleaning up (kill -9, a reboot), and unfinished writes. Only
# dead pids: a live one may be a loop between fork and exec, and a reused pid misleads nobody, as
# running_loop checks the command line.
sweep_stale () {
  for file in "$state_dir"/*.pid "$state_dir"/*.pid.*; do
    [ -f "$file" ] || continue
    case $file in
      *.pid) { read -r stale_pid _ <"$file"; } 2>/dev/null ;;
      *) stale_pid=${file##*.} ;;
    esac
    case $stale_pid in '' | *[!0-9]*) ;; *) proc_alive "$stale_pid" && continue ;; esac
    rm -f "$file"
  done
}

trap release EXIT
trap 'exit 0' TERM
trap '' HUP INT
# start.sh names this loop in the pid file right after starting it; give it a moment to.
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  named && break
  sleep 0.05
done
sweep_stale
while named; do
  post heartbeat
  sleep "$interval" &
  wait $!
  if ! proc_alive "$owner"; then
    log "Claude Code $owner is gone without a SessionEnd: ending the session"
    release
    send_stop
    exit 0
  fi
done
