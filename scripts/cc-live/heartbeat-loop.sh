#!/bin/sh
# heartbeat-loop.sh PRESENCE: the heartbeat loop of one presence (one session in one Claude Code; see
# common.sh), run detached by start.sh. Sends a heartbeat at once, then one whenever what it says
# changes (event.sh records the session's status and wakes the loop), and one per interval, while a
# file of the presence names it and the Claude Code process lives; when that process is gone without
# a SessionEnd (crash, kill -9) the loop sends stop and ends.
#
# A heartbeat says the status of the presence's newest status record (working, waiting or idle; none
# before the first, which the server shows as live) and an activity object with only what
# CC_LIVE_SHARE names: the model's short name, the public name the projects file gives the session's
# directory, and the verb of its tool while it works or waits. After each request the loop lets
# MIN_GAP_SECONDS pass before the next and then sends the newest state: a burst of events costs a few
# requests a second at most, and the last one says the latest.
#
# Handover. /clear and an in-session /resume end a session and start another in the same process at
# once. stop.sh then renames the pid file to the ending file and wakes the loop, which goes on
# heartbeating, so the process never looks offline, until the first of: the next session's loop has
# had its first heartbeat answered (it sends USR2), that session has ended too (stop.sh sends USR2),
# the Claude Code is gone, or HANDOVER_SECONDS have passed (seen at its next wake). Then it sends
# its own stop and ends.
#
# Signals: WINCH wakes the loop to look at its files and its Claude Code again (by default it does
# nothing, so a wake that comes before the trap is set is harmless); USR2 ends the loop if its
# presence is ending; TERM ends it without a stop (whoever sends it sees to the rest). Trapped before
# anything else.
trap 'woken=1' WINCH
trap 'woken=1 handed_over=1' USR2
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/session.sh"
. "$cc_live_here/share.sh"
require_config
cd / || exit 0 # a daemon must not pin the project directory
set_presence_from_name "$1" || exit 0
# Character classes and lengths count bytes, whatever the shell and the locale (public_name).
LC_ALL=C
export LC_ALL
MIN_GAP_SECONDS=0.25

read_interval || log "CC_LIVE_INTERVAL_SECONDS must be a positive number of seconds; using 30"
# An ending presence looks again at least every HANDOVER_SECONDS, whatever the interval.
interval_seconds=${interval%%.*}
if [ "${interval_seconds:-0}" -lt "$HANDOVER_SECONDS" ] 2>/dev/null; then
  ending_interval=$interval
else
  ending_interval=$HANDOVER_SECONDS
fi
read_share
[ -z "$share_unknown" ] || log "CC_LIVE_SHARE names what cannot be shared ($share_unknown): only model, project and tool can"

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
  forget_presence
  post stop
  exit 0
}

# status, tool (`=` keeps the one before) and cwd from the presence's newest status record. The
# older ones are removed when a heartbeat is due or a few have gathered, not at every event: rm is a
# fork, on a machine busy with Claude Code.
read_status () {
  if [ -n "$due" ]; then newest_status 1; else newest_status 8; fi
  [ -n "$newest" ] || return 0
  case $newest_status in working | waiting | idle) status=$newest_status ;; esac
  [ "$newest_tool" = '=' ] || tool=$newest_tool
  cwd=$newest_cwd
}

# activity: the JSON members of what CC_LIVE_SHARE lets leave, each checked again here; body: the
# heartbeat with it and the status.
build_body () {
  activity=
  if [ -n "$share_model" ] && regular_file "$model_file" && { read -r model <"$model_file"; } 2>/dev/null &&
    public_name "$model"; then
    json_escape "$model"
    activity="\"model\":\"$json_value\""
  fi
  if [ -n "$share_project" ]; then
    # Mapped again when the directory changes and when a heartbeat is due, so that an edit of the
    # projects file shows within an interval without a perl per event for a name that is not ASCII.
    if [ "$cwd" != "$mapped_cwd" ] || [ -n "$due" ]; then
      set_project_name "$cwd"
      mapped_cwd=$cwd
    fi
    if [ -n "$project_name" ]; then
      json_escape "$project_name"
      activity="$activity${activity:+,}\"project\":\"$json_value\""
    fi
  fi
  if [ -n "$share_tool" ] && [ "$status" != idle ] && sendable_verb "$tool"; then
    activity="$activity${activity:+,}\"tool\":\"$tool\""
  fi
  body="{\"session_id\":\"$presence\"${status:+,\"status\":\"$status\"},\"activity\":{$activity}}"
}

# Sends the heartbeat. An activity the server refuses (a name public_name should not have let
# through) is left out from then on, so the session stays live with its status.
send_heartbeat () {
  status_only="{\"session_id\":\"$presence\"${status:+,\"status\":\"$status\"}}"
  if [ -n "$activity" ] && [ "$activity" = "${refused_activity:-}" ]; then
    post heartbeat "$status_only"
    return
  fi
  post heartbeat "$body" && return 0
  [ "$post_status" = 400 ] && [ -n "$activity" ] || return 1
  refused_activity=$activity
  log "the server refused the activity {$activity}: sending the status without it"
  post heartbeat "$status_only"
}

# The heartbeat timer: a sleep in the background that the loop waits for, and that a wake does not
# cut short. Started anew for another period (an ending presence looks again sooner).
start_timer () {
  if [ -n "$timer" ]; then
    kill "$timer" 2>/dev/null
    wait "$timer" 2>/dev/null # reaped, or the shell would keep it in its table of jobs
  fi
  sleep "$1" &
  timer=$!
  timer_period=$1
}

# Waits for the timer to run out (then a heartbeat is due) or for a wake, whichever comes first. A
# wake in the instant between the test and `wait` makes dash's wait return at once; bash may see it
# only at the next wake.
wait_for_wake () {
  if [ -z "${woken:-}" ]; then
    wait "$timer"
    [ "$?" -gt 128 ] || { due=1 timer=; }
  fi
  woken=
}

# Files of loops that died without cleaning up (kill -9, a reboot) and of presences whose Claude Code
# is gone, unfinished writes, and anything else at those names (a symlink, say). Only dead pids: a
# live one may be a loop between fork and exec, and a reused pid misleads nobody, as running_loop
# checks the command line. One rm for all.
sweep_stale () {
  set --
  for file in "$state_dir"/*.pid "$state_dir"/*.ending "$state_dir"/*.pid.* \
    "$state_dir"/*.model "$state_dir"/*.model.* "$state_dir"/*.waiting "$state_dir"/*.status.* \
    "$state_dir"/.*.pid "$state_dir"/.*.ending "$state_dir"/.*.pid.* \
    "$state_dir"/.*.model "$state_dir"/.*.model.* "$state_dir"/.*.waiting "$state_dir"/.*.status.*; do
    [ -e "$file" ] || [ -L "$file" ] || continue
    name=${file##*/}
    case $name in
      *.pid | *.ending) read_pid "$file" && proc_alive "$file_pid" && continue ;;
      *.model | *.waiting | *.status.*)
        stale_owner=${name%.model}
        stale_owner=${stale_owner%.waiting}
        stale_owner=${stale_owner%.status.*}
        stale_owner=${stale_owner##*:}
        case $stale_owner in '' | *[!0-9]*) ;; *) proc_alive "$stale_owner" && continue ;; esac
        ;;
      *) stale_pid=${name##*.}; case $stale_pid in '' | *[!0-9]*) ;; *) proc_alive "$stale_pid" && continue ;; esac ;;
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
      running_loop "$file" && wake_loop "$loop_pid"
  done
}

timer=
trap 'release; [ -z "$timer" ] || kill "$timer" 2>/dev/null' EXIT
trap 'exit 0' TERM
trap '' HUP INT
# start.sh names this loop in the pid file right after starting it; give it a moment to.
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  names_me "$pid_file" || names_me "$ending_file" && break
  sleep 0.05
done
heard= # whether the server has answered a heartbeat of this loop
swept=
status= tool= cwd= sent= mapped_cwd= project_name=
due=1
while :; do
  if names_me "$pid_file"; then
    period=$interval
  elif names_me "$ending_file"; then
    [ -z "${handed_over:-}" ] || end
    now=$(date +%s)
    ending_deadline=${ending_deadline:-$((now + HANDOVER_SECONDS))}
    if [ "$now" -ge "$ending_deadline" ]; then
      log "no next session of Claude Code $owner was heard within $HANDOVER_SECONDS s: ending the session"
      end
    fi
    period=$ending_interval
  else
    exit 0 # stopped by stop.sh, or superseded by start.sh: neither wants a stop from here
  fi
  read_status
  build_body
  if [ -n "$due" ] || [ "$body" != "$sent" ]; then
    due=
    if send_heartbeat; then
      sent=$body
      if [ -z "$heard" ]; then
        heard=1
        # Live on the server now: the presences this one replaces can go without a gap.
        end_handovers
        wake_orphans
      fi
    fi
    [ -n "$swept" ] || { swept=1; sweep_stale; } # once, and not before the first heartbeat
    [ "$period" = "${timer_period:-}" ] && [ -n "$timer" ] || start_timer "$period"
    sleep "$MIN_GAP_SECONDS"
  elif [ "$period" != "${timer_period:-}" ] || [ -z "$timer" ]; then
    start_timer "$period"
  fi
  wait_for_wake
  if ! proc_alive "$owner"; then
    if names_me "$ending_file"; then
      log "Claude Code $owner is gone before its next session was heard: ending the session"
    else
      log "Claude Code $owner is gone without a SessionEnd: ending the session"
    fi
    end
  fi
done
