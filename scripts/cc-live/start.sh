#!/bin/sh
# Claude Code SessionStart hook: keeps this session live on the cc-live server, as a presence of its
# own for this Claude Code process (see common.sh). Starts the presence's heartbeat loop, detached,
# and returns at once; prints nothing, exits 0 whatever happens. Needs CC_LIVE_ENDPOINT and
# CC_LIVE_API_KEY; without them it does nothing.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
read_hook_presence
# Resume and compact run this hook again in the same Claude Code: its loop carries on.
running_loop "$pid_file" && exit 0
# The session this process left by /clear or /resume a moment ago comes back (a /resume of it): the
# new loop goes on under the same id, so the ending one goes without a stop.
running_loop "$ending_file" && kill_loop "$loop_pid"
# Nothing else is touched here: the new loop, once its first heartbeat is answered, ends what it
# replaces (this process's ending sessions, the same session in a Claude Code that is gone).
detach sh "$cc_live_here/heartbeat-loop.sh" "$presence"
# Written before the hook returns, so a SessionEnd right after finds the loop. $! is the loop itself:
# setsid and perl exec it in the same process.
replace_file "$pid_file" "$!"
exit 0
