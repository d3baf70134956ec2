#!/bin/sh
# Claude Code SessionEnd hook: ends this session's presence in this Claude Code: its heartbeat loop,
# and the stop for it; other sessions and other Claude Codes on the same session stay live. Prints
# nothing, exits 0 whatever happens, and sends nothing itself.
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/session.sh"
require_config
read_hook_presence
hook_field reason
case $hook_value in
  clear | resume)
    # Claude Code starts the next session in this process at once: the loop hands over to it rather
    # than going offline (heartbeat-loop.sh), woken so that its time to wait starts now.
    if regular_file "$pid_file" && mv -f "$pid_file" "$ending_file"; then
      running_loop "$ending_file" && wake_loop "$loop_pid"
      exit 0
    fi
    ;;
esac
running_loop "$pid_file" && kill_loop "$loop_pid"
# The pid file also when the loop is too new to be recognised: it ends as soon as it finds itself
# unnamed.
forget_presence "$pid_file"
# The sessions this process left by /clear or /resume will have no successor now.
end_handovers
# Claude Code gives all SessionEnd hooks 1.5 s together and may exit right after: the stop request
# goes out from its own detached process, which neither holds up the exit nor dies with it.
detach sh "$cc_live_here/send-stop.sh" "$presence"
exit 0
