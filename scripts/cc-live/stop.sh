#!/bin/sh
# Claude Code SessionEnd hook: ends this session's heartbeat loop and tells the server the session
# is over; other sessions stay live. Prints nothing, exits 0 whatever happens.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
read_hook_session
running_loop "$session_name" && kill_loop "$loop_pid"
# Also when the loop is too new to be recognised: it ends as soon as it finds itself unnamed.
rm -f "$pid_file"
# Claude Code gives all SessionEnd hooks 1.5 s together and may exit right after: the stop request
# goes out from its own detached process, which neither holds up the exit nor dies with it.
detach sh "$cc_live_here/send-stop.sh" "$session_name"
exit 0
