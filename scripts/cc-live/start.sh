#!/bin/sh
# Claude Code SessionStart hook: keeps this session live on the cc-live server, as a presence of its
# own for this Claude Code process (see common.sh). Records the session's model and that it is idle,
# starts the presence's heartbeat loop, detached, and returns at once; prints nothing, exits 0
# whatever happens. Needs CC_LIVE_ENDPOINT and CC_LIVE_API_KEY; without them it does nothing.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/session.sh"
. "$cc_live_here/share.sh"
require_config
read_hook_presence
# Only an interactive start-up and a compaction name the model.
hook_field model
set_model_name "$hook_value"
hook_field source
source=$hook_value
# Resume and compact run this hook again in the same Claude Code: its loop carries on.
if running_loop "$pid_file"; then
  [ -z "$model_name" ] || replace_file "$model_file" "$model_name"
  # A compaction the owner asked for (/compact) runs between turns, and no Stop follows it: the
  # session is idle again. An automatic one goes on with its turn.
  if [ "$source" = compact ]; then
    newest_status
    [ -z "$newest" ] || [ "$newest_tool" != compacting ] || record_status idle '' "$session_cwd"
  fi
  wake_loop "$loop_pid"
  exit 0
fi
# The model of the session this process left by /clear or /resume a moment ago, whose SessionStart
# named it: the next one's does not.
if [ -z "$model_name" ]; then
  for file in "$state_dir"/*":$owner.model" "$state_dir"/.*":$owner.model"; do
    regular_file "${file%.model}.ending" && regular_file "$file" && { read -r model_name <"$file"; } 2>/dev/null && break
  done
fi
# The session this process left by /clear or /resume a moment ago comes back (a /resume of it): the
# new loop goes on under the same id, so the ending one goes without a stop.
running_loop "$ending_file" && kill_loop "$loop_pid"
[ -z "$model_name" ] || replace_file "$model_file" "$model_name"
# A session starts idle. A compaction without a loop (the hooks were set up in the middle of a
# session) says nothing about that: the next event will.
[ "$source" = compact ] || record_status idle '' "$session_cwd"
# Nothing else is touched here: the new loop, once its first heartbeat is answered, ends what it
# replaces (this process's ending sessions, the same session in a Claude Code that is gone).
detach sh "$cc_live_here/heartbeat-loop.sh" "$presence"
# Written before the hook returns, so a SessionEnd right after finds the loop. $! is the loop itself:
# setsid and perl exec it in the same process.
replace_file "$pid_file" "$!"
exit 0
