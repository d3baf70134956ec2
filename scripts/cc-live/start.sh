#!/bin/sh
# Claude Code SessionStart hook: keeps this session live on the cc-live server. Starts the session's
# heartbeat loop, detached, and returns at once; prints nothing, exits 0 whatever happens.
# Needs CC_LIVE_ENDPOINT and CC_LIVE_API_KEY; without them it does nothing.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
require_config
read_hook_session
find_owner
# Resume and compact run this hook again for a session whose loop is already running.
running_loop "$session_name" && [ "$loop_owner" = "$owner" ] && exit 0
detach sh "$cc_live_here/heartbeat-loop.sh" "$session_name" "$owner"
exit 0
