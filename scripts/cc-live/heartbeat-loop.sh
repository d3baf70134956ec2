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

# Claims the session's pid file, atomically (ln fails when it exists). A live loop for the same
# Claude Code process keeps the session (resume, compact); one for another process is replaced,
# as when a session is resumed after the Claude Code that ran it crashed.
claim () {
  claim_tmp=$pid_file.$$
  printf '%s %s\n' "$$" "$owner" >"$claim_tmp" || return 1
  if ln "$claim_tmp" "$pid_file" 2>/dev/null; then
    rm -f "$claim_tmp"
    return 0
  fi
  if running_loop "$session_name"; then
    if [ "$loop_owner" = "$owner" ]; then
      rm -f "$claim_tmp"
      return 1
    fi
    log "taking over from loop $loop_pid of Claude Code $loop_owner"
    kill_loop "$loop_pid"
  fi
  mv -f "$claim_tmp" "$pid_file"
}

# Removes the pid file if it still names this loop (a takeover may have replaced it).
release () {
  { read -r named _ <"$pid_file"; } 2>/dev/null && [ "$named" = "$$" ] && rm -f "$pid_file"
}

# Pid files of loops that are gone (kill -9, reboot) and half-written claims.
sweep_stale () {
  for file in "$state_dir"/*.pid "$state_dir"/*.pid.*; do
    [ -f "$file" ] || continue
    name=${file##*/}
    case $name in
      *.pid) running_loop "${name%.pid}" || rm -f "$file" ;;
      *) proc_alive "${name##*.}" || rm -f "$file" ;;
    esac
  done
}

claim || exit 0
trap release EXIT
trap 'exit 0' TERM
trap '' HUP INT
sweep_stale
while :; do
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
