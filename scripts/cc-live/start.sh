#!/bin/sh
# Claude Code SessionStart hook: keeps this session live on the cc-live server. Starts the session's
# heartbeat loop, detached, and returns at once; prints nothing, exits 0 whatever happens.
# Needs CC_LIVE_ENDPOINT and CC_LIVE_API_KEY; without them it does nothing.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
read_hook_session
find_owner
if running_loop "$session_name"; then
  # Resume and compact run this hook again in the same Claude Code: its loop carries on.
  [ "$loop_owner" = "$owner" ] && exit 0
  # Another Claude Code resumes the session (say the one that ran it crashed): it takes over.
  log "taking over from loop $loop_pid of Claude Code $loop_owner"
  kill_loop "$loop_pid"
fi
detach sh "$cc_live_here/heartbeat-loop.sh" "$session_name" "$owner"
# Written before the hook returns, so a SessionEnd right after finds the loop. $! is the loop itself:
# setsid and perl exec it in the same process.
printf '%s %s\n' "$!" "$owner" >"$pid_file.$$" && mv -f "$pid_file.$$" "$pid_file"
exit 0
