#!/bin/sh
# Claude Code hook for UserPromptSubmit, PreToolUse, PostToolUse, PostToolUseFailure,
# PermissionRequest, Notification, Stop, StopFailure, SubagentStart and PreCompact: records what the
# session is doing now and wakes its heartbeat loop, which sends it (heartbeat-loop.sh). Prints
# nothing, exits 0 whatever happens, and does nothing for a session without a running loop (start.sh
# starts one).
#
# Claude Code waits for this hook on every tool call, so it does no network and, as install.sh
# installs it, no fork: the shell Claude Code starts sources it (cc_live_here names this directory),
# the command names the event (cc_live_event) and, for a tool, the verb of the tools its matcher
# picks (cc_live_verb; `=` keeps the one before), and Claude Code names the session (hook_session).
# The JSON on stdin is read only for what nothing else tells: a Notification's type, a PreCompact's
# trigger, and everything when the hook was installed by an older install.sh or runs under an older
# Claude Code.
#
#   working  a prompt was submitted; a tool is about to run, has run or has failed (which is also how
#            a granted permission shows: Claude Code tells no hook before the tool is done); a
#            subagent started; the context is being compacted;
#   waiting  a tool waits for the owner's permission (PermissionRequest, which comes within 0.1 s of
#            the tool's PreToolUse; Notification permission_prompt, seconds later, as a backstop) or
#            an MCP server asks a question (Notification elicitation_dialog);
#   idle     the turn has ended (Stop, StopFailure; Notification idle_prompt a minute later), and
#            after a /compact (start.sh).
# A prompt the owner denied stays waiting (Claude Code asks what to do instead, and tells no hook)
# until the next prompt. Other events and notifications change nothing.
[ -n "${cc_live_here:-}" ] || case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/common.sh"
configured || exit 0
# No find(1) here, unlike require_config: start.sh found the directory private before it started the
# loop this hook looks for, and only its owner can loosen it (or replace it, by owning its parent).
[ -d "$state_dir" ] && [ ! -L "$state_dir" ] && [ -O "$state_dir" ] || exit 0

event=${cc_live_event:-}
[ -n "$event" ] || { hook_field hook_event_name; event=$hook_value; }
tool_verb=
case $event in
  UserPromptSubmit) status=working ;;
  # One the owner asked for (/compact) is marked, for start.sh to tell when it is over; `compacting`
  # is no verb that can be sent.
  PreCompact)
    status=working
    hook_field trigger
    [ "$hook_value" != manual ] || tool_verb=compacting
    ;;
  SubagentStart) status=working tool_verb=delegating ;;
  PreToolUse | PostToolUse | PostToolUseFailure | PermissionRequest)
    status=working
    [ "$event" != PermissionRequest ] || status=waiting
    if [ -n "${cc_live_verb:-}" ]; then
      tool_verb=$cc_live_verb
    else
      hook_field tool_name
      set_tool_verb "$hook_value"
    fi
    ;;
  Notification)
    hook_field notification_type
    case $hook_value in
      # The tool a permission prompt is about was named by its PermissionRequest: keep it.
      permission_prompt | elicitation_dialog) status=waiting tool_verb='=' ;;
      idle_prompt) status=idle ;;
      *) exit 0 ;;
    esac
    ;;
  Stop | StopFailure) status=idle ;;
  *) exit 0 ;;
esac

hook_session
# A tool that has run or failed changes what the session shows only after a waiting status: its
# PreToolUse said working already. So PostToolUse, on every tool call, only looks for the mark a
# waiting status leaves, and without one it is done. Of parallel tools, the first to end after a
# permission prompt takes the mark and shows the session working again, as before the mark.
case $event in
  PostToolUse | PostToolUseFailure)
    regular_file "$waiting_file" || exit 0
    rm -f "$waiting_file"
    ;;
esac
presence_loop || exit 0
# Marked before it is recorded, so that a PostToolUse that comes after the record finds the mark.
# (printf, not `:`: a redirection that fails on a special builtin ends the shell with status 2.)
[ "$status" != waiting ] || regular_file "$waiting_file" || { printf '' >"$waiting_file"; } 2>/dev/null
record_status "$status" "$tool_verb" "$session_cwd"
wake_loop "$loop_pid"
exit 0
