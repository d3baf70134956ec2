# Sourced by every script here, the hooks first: what event.sh, which Claude Code runs on every tool
# call, needs and no more (session.sh has the rest), so that it starts fast. POSIX sh; needs only
# curl beyond the base system. Nothing here prints to stdout or stderr: whatever a hook prints can
# land in the model's context, and errors go to the log file.
#
# What the server shows live is a presence: one Claude Code session in one running Claude Code
# process, sent as the session id `<session_id>:<owner pid>` (the default session, without a usable
# id, is `:<owner pid>`). Two processes on one session (`claude -p --continue` beside the interactive
# one) are two presences, and each ends only its own. The state directory holds, per presence:
#   PRESENCE.pid      the pid of its heartbeat loop, while its session is on;
#   PRESENCE.ending   the same, renamed, once the session ended by /clear or /resume: the loop keeps
#                     the presence live until the same process's next session has been heard (see
#                     heartbeat-loop.sh), so viewers never see a false offline;
#   PRESENCE.model    the public name of the session's model (`Opus 4.8`), from its SessionStart;
#   PRESENCE.waiting  there while a tool may be waiting for the owner's permission (event.sh);
#   PRESENCE.status.TIME.PID
#                     what a hook saw the session do (record_status), named by when the process
#                     Claude Code started for that hook began: the loop sends the newest;
#   NAME.PID          a file being written by process PID (replace_file);
# and cc-live.log. Nothing there ever holds a prompt, a tool's input, a command or a file name; the
# directory a session runs in is kept only in its status records, to be mapped to a public name.

umask 077
# No `>` truncates a file or writes through a symlink to one: under noclobber a new file is opened
# with O_EXCL (which a symlink, even a dangling one, fails) and an existing regular file is refused.
# Where something else may sit at a name we write (replace_file, log), it is removed first; appending
# is only done to a regular file.
set -C
case $cc_live_here in /*) ;; *) cc_live_here=$PWD/$cc_live_here ;; esac
HOOK_HEAD_BYTES=8192

# Where the hooks keep their state (state_dir, log_file), and where the owner maps project
# directories to public names (projects_file): under the XDG base directories, which must be absolute
# to count, or under HOME. Fails when there is neither.
set_paths () {
  case ${XDG_STATE_HOME:-} in
    /*) state_dir=$XDG_STATE_HOME/cc-live ;;
    *) [ -n "${HOME:-}" ] || return 1; state_dir=$HOME/.local/state/cc-live ;;
  esac
  log_file=$state_dir/cc-live.log
  case ${XDG_CONFIG_HOME:-} in
    /*) projects_file=$XDG_CONFIG_HOME/cc-live/projects ;;
    *) projects_file=${HOME:+$HOME/.config/cc-live/projects} ;;
  esac
}

# Whether the hooks are to do anything: only with both the endpoint and the key set.
configured () {
  [ -n "${CC_LIVE_ENDPOINT:-}" ] && [ -n "${CC_LIVE_API_KEY:-}" ] && set_paths
}

# A regular file that is no symlink: the only kind the hooks read or append to.
regular_file () {
  [ -f "$1" ] && [ ! -L "$1" ]
}

# Reads the first HOOK_HEAD_BYTES of the hook's JSON into hook_input, once, when a field is first
# asked for (hook_field): a hook that Claude Code tells all it needs in its command and environment
# (hook_session) never reads it. Claude Code puts the fields the hooks use first (session_id, cwd,
# hook_event_name, tool_name, notification_type), and then a tool's input or output, a prompt or the
# last message, which can run to megabytes: the read builtin would take a system call per byte to get
# through them, head one fork. Claude Code takes a hook that leaves the rest unread.
read_hook_head () {
  hook_input=
  hook_input_read=1
  [ -t 0 ] || hook_input=$(head -c "$HOOK_HEAD_BYTES" 2>/dev/null)
}

# hook_value: the string value of the top-level-looking key $1 in hook_input, without a JSON tool,
# or empty. A quote inside a JSON string is always escaped, so an unescaped `"key"` followed by a
# colon is the key itself. A value with an escape in it comes out with its backslash, which no
# caller accepts.
hook_field () {
  [ -n "${hook_input_read:-}" ] || read_hook_head
  rest=$hook_input
  hook_value=
  while [ -z "$hook_value" ]; do
    case $rest in *"\"$1\""*) ;; *) break ;; esac
    rest=${rest#*"\"$1\""}
    value=${rest#"${rest%%[![:space:]]*}"}
    case $value in :*) ;; *) continue ;; esac
    value=${value#:}
    value=${value#"${value%%[![:space:]]*}"}
    case $value in '"'*'"'*) value=${value#'"'}; hook_value=${value%%'"'*} ;; esac
  done
}

# The presence of session $1 in the Claude Code `owner`: session_id (empty for the default session),
# presence and the names of its files. The server takes 1 to 128 characters of [A-Za-z0-9._:-]; an
# id that is not of them, or too long to carry the owner's pid too, is the default session.
set_presence () {
  session_id=
  case $1 in
    '' | *[!A-Za-z0-9._:-]*) ;;
    *) [ "$((${#1} + ${#owner}))" -lt 128 ] && session_id=$1 ;;
  esac
  presence=$session_id:$owner
  pid_file=$state_dir/$presence.pid
  ending_file=$state_dir/$presence.ending
  model_file=$state_dir/$presence.model
  waiting_file=$state_dir/$presence.waiting
  status_prefix=$state_dir/$presence.status.
}

# The presence of the session a hook is about, in the Claude Code that runs it (set_presence), and
# session_cwd, the directory the session runs in. Claude Code 2.1 names the session in the hook's
# environment, names itself (CLAUDE_PID, see find_owner) and runs the hook in that directory, which
# spares reading the JSON; before, both came only from the JSON. A directory whose name needed
# escaping in JSON comes out with a backslash: no project for it, wherever it came from.
hook_session () {
  if [ -n "${CLAUDE_CODE_SESSION_ID:-}" ]; then
    session_cwd=$PWD
    hook_session_id=$CLAUDE_CODE_SESSION_ID
  else
    hook_field cwd
    session_cwd=$hook_value
    hook_field session_id
    hook_session_id=$hook_value
  fi
  case $session_cwd in *\\*) session_cwd= ;; esac
  find_owner
  set_presence "$hook_session_id"
}

# Records what a hook saw the session do, for the presence's loop to send: the status ($1), the tool
# verb ($2; `=` for the one before) and the directory the session runs in ($3). Each record is a new
# file named by status_key: the loop takes the newest, so the event Claude Code fired last wins even
# when hooks run at once and finish in another order (parallel tool calls, a Notification beside a
# tool's hooks). Written in one go and ended by a line `.`, which tells the loop it is whole.
record_status () {
  status_key || return 0
  { printf '%s\n%s\n%s\n.\n' "$1" "$2" "$3" >"$status_prefix$status_key"; } 2>/dev/null
}

# status_key: TIME.PID of the process Claude Code started for this hook (find_owner's spawned): its
# start time in clock ticks since boot where /proc tells it (no fork), the current second elsewhere;
# the pid, which the kernel hands out in increasing order, orders processes started in the same tick.
status_key () {
  if [ "$proc_source" = procfs ]; then
    [ -n "$spawned_start" ] || { proc_info "$spawned" && spawned_start=$proc_start; } || return 1
    status_key=$spawned_start.$spawned
  else
    status_key=$(date +%s).$spawned
  fi
}

# Whether $1 is a status record of the presence, named as status_key names them; sets record_time
# and record_pid. Other names under the same prefix belong to other presences.
status_record () {
  record_key=${1#"$status_prefix"}
  record_time=${record_key%.*}
  record_pid=${record_key#*.}
  [ "$record_time.$record_pid" = "$record_key" ] || return 1
  case $record_time in '' | *[!0-9]*) return 1 ;; esac
  case $record_pid in '' | *[!0-9]*) return 1 ;; esac
}

# Whether the presence's pid file names a running loop; sets loop_pid. Only a signal is asked of the
# kernel (kill -0: no fork, no file read on the way of every tool call). A loop ends by removing its
# pid file; one killed outright leaves it, and should a process of the same user get its pid, hooks
# would record for a loop that never reads (stop.sh removes the records) and wake that process with
# a signal whose default action is to do nothing.
presence_loop () {
  regular_file "$pid_file" && { read -r loop_pid _ <"$pid_file"; } 2>/dev/null || return 1
  case $loop_pid in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$loop_pid" 2>/dev/null
}

# Wakes a loop to look at its files at once. SIGWINCH, whose default action is to do nothing: a loop
# still starting, before its trap is set, is not killed by it.
wake_loop () {
  kill -WINCH "$1" 2>/dev/null
}

# How to look at other processes: /proc where there is one (no fork, which keeps the hook fast),
# ps elsewhere (macOS).
if [ -d /proc/1 ]; then proc_source=procfs; else proc_source='ps'; fi

# proc_state, proc_ppid and proc_comm of a process, and from /proc its start time (proc_start, in
# clock ticks since boot: with the pid, it names one process for good); fails when there is none.
proc_info () {
  if [ "$proc_source" = procfs ]; then
    { read -r proc_line <"/proc/$1/stat"; } 2>/dev/null || return 1
    proc_comm=${proc_line#*\(}
    proc_comm=${proc_comm%\)*}
    # After the name: state, ppid, 17 fields, then the start time.
    read -r proc_state proc_ppid _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ proc_start _ <<EOF
${proc_line##*\) }
EOF
  else
    proc_line=$(ps -o stat= -o ppid= -o comm= -p "$1" 2>/dev/null) && [ -n "$proc_line" ] || return 1
    read -r proc_state proc_ppid proc_comm <<EOF
$proc_line
EOF
    proc_comm=${proc_comm##*/}
    proc_start=
  fi
}

proc_args () {
  if [ "$proc_source" = procfs ]; then tr '\0' ' ' <"/proc/$1/cmdline"; else ps -o args= -p "$1"; fi 2>/dev/null
}

# Alive means running: an exited process waiting to be reaped (a zombie) is gone.
proc_alive () {
  proc_info "$1" && case $proc_state in Z*) return 1 ;; esac
}

# Claude Code runs a hook through `sh -c`, and a shell that does not exec the script stays between
# the two: the owner is the first ancestor that is not a shell (pid 1 too: Claude Code in a container).
# The process below it on the way, which Claude Code started for this hook, is `spawned`.
find_owner () {
  owner=$PPID
  spawned=$$
  spawned_start=
  # Claude Code 2.1 names itself to its hooks: when it is the parent, there is nothing to look up.
  [ "$owner" != "${CLAUDE_PID:-}" ] || return 0
  for _ in 1 2 3; do
    proc_info "$owner" || return 0
    case ${proc_comm#-} in
      sh | bash | dash | zsh | ksh | mksh | ash | busybox | fish)
        [ "$proc_ppid" -gt 0 ] || return 0
        spawned=$owner
        spawned_start=$proc_start
        owner=$proc_ppid
        ;;
      *) return 0 ;;
    esac
  done
}

# file_pid: the pid a state file holds. Only a regular file is read: a planted symlink or FIFO could
# lead anywhere, or block.
read_pid () {
  regular_file "$1" && { read -r file_pid _ <"$1"; } 2>/dev/null || return 1
  case $file_pid in '' | *[!0-9]*) return 1 ;; esac
}

# Whether a presence's pid or ending file names a running loop for that presence; sets loop_pid. The
# command line is checked too, so a pid reused after a reboot is never mistaken for a loop.
running_loop () {
  read_pid "$1" && proc_alive "$file_pid" || return 1
  loop_pid=$file_pid
  loop_presence=${1##*/}
  loop_presence=${loop_presence%.*}
  case "$(proc_args "$loop_pid") " in *"/heartbeat-loop.sh $loop_presence "*) return 0 ;; esac
  return 1
}

# What each Claude Code tool does, in the words viewers may see (never its name, input or output):
# lines of `TOOL|TOOL...=verb`; any other tool, MCP tools too, is OTHER_TOOLS_VERB. install.sh makes
# each line the matcher of a PreToolUse hook that hands event.sh its verb; set_tool_verb is for the
# hooks of an older install.sh, which read the tool's name from the JSON.
TOOL_VERBS='Edit|Write|MultiEdit|NotebookEdit=editing
Read|Glob|Grep|LS=reading
Bash=running commands
WebFetch|WebSearch=browsing
Task|Agent=delegating
TodoWrite=planning'
OTHER_TOOLS_VERB='using tools'

# tool_verb: the verb of the tool named $1.
set_tool_verb () {
  tool_verb=$OTHER_TOOLS_VERB
  tools_ifs=$IFS
  IFS='
'
  for tools in $TOOL_VERBS; do
    case "|${tools%%=*}|" in *"|$1|"*) tool_verb=${tools#*=}; break ;; esac
  done
  IFS=$tools_ifs
}

# Whether $1 is one of the verbs viewers may see.
sendable_verb () {
  case $1 in '' | *=*) return 1 ;; "$OTHER_TOOLS_VERB") return 0 ;; esac
  case "$TOOL_VERBS
" in *"=$1
"*) return 0 ;; esac
  return 1
}
