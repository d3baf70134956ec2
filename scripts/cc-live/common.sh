# Shared by start.sh, stop.sh, heartbeat-loop.sh and send-stop.sh: sourced, never run. POSIX sh;
# needs only curl beyond the base system. Nothing here may print to stdout or stderr: whatever a
# SessionStart hook prints lands in the model's context, and errors go to the log file instead.
#
# What the server shows live is a presence: one Claude Code session in one running Claude Code
# process, sent as the session id `<session_id>:<owner pid>` (the default session, without a usable
# id, is `:<owner pid>`). Two processes on one session (`claude -p --continue` beside the interactive
# one) are two presences, and each ends only its own. The state directory holds, per presence:
#   PRESENCE.pid      the pid of its heartbeat loop, while its session is on;
#   PRESENCE.ending   the same, renamed, once the session ended by /clear or /resume: the loop keeps
#                     the presence live until the same process's next session has been heard (see
#                     heartbeat-loop.sh), so viewers never see a false offline;
#   PRESENCE.pid.PID  a pid file being written by process PID;
# and cc-live.log.

umask 077
# No `>` truncates a file or writes through a symlink to one: under noclobber a new file is opened
# with O_EXCL (which a symlink, even a dangling one, fails) and an existing regular file is refused.
# Where something else may sit at a name we write (replace_file, log), it is removed first; appending
# is only done to a regular file.
set -C
case $cc_live_here in /*) ;; *) cc_live_here=$PWD/$cc_live_here ;; esac
LOG_MAX_BYTES=65536
POST_TIMEOUT=5 # seconds; no retries: the next heartbeat is the retry
# How long a session ended by /clear or /resume waits for the next one: twice curl's timeout, so the
# successor's first heartbeat has had every chance. Claude Code starts the next session at once.
HANDOVER_SECONDS=10

# Exits 0 at once, doing nothing, unless both the endpoint and the key are set and the per-user state
# directory, which holds the pid files and the log, is the user's own.
require_config () {
  [ -n "${CC_LIVE_ENDPOINT:-}" ] && [ -n "${CC_LIVE_API_KEY:-}" ] || exit 0
  endpoint=${CC_LIVE_ENDPOINT%/}
  case ${XDG_STATE_HOME:-} in
    /*) state_dir=$XDG_STATE_HOME/cc-live ;;
    *) [ -n "${HOME:-}" ] || exit 0; state_dir=$HOME/.local/state/cc-live ;;
  esac
  [ -d "$state_dir" ] || mkdir -p "$state_dir" 2>/dev/null || exit 0 # 0700, by the umask
  private_dir "$state_dir" || exit 0
  log_file=$state_dir/cc-live.log
  # The key goes into a curl config line; the bearer token alphabet (RFC 6750) keeps it one line
  # that needs no quoting.
  case $CC_LIVE_API_KEY in
    *[!A-Za-z0-9._~+/=-]*) log "CC_LIVE_API_KEY has characters a bearer token cannot have"; exit 0 ;;
  esac
}

# Whether a directory is a real one (not a symlink), the user's, and writable by no one else: only
# then can no one else plant or swap what the hooks write there. Asked of find, whose -user and -perm
# are POSIX and alike on GNU and BSD (macOS), unlike stat's options; find looks at a symlink given as
# its operand without following it, so a symlink is no directory here.
private_dir () {
  [ -n "$(find "$1" -prune -type d -user "$(id -u)" ! -perm -020 ! -perm -002 2>/dev/null)" ]
}

# A regular file that is no symlink: the only kind the hooks read or append to.
regular_file () {
  [ -f "$1" ] && [ ! -L "$1" ]
}

# Puts a line in FILE by creating a new file beside it and renaming that over FILE: a reader never
# sees half a file, and a rename replaces whatever is at FILE without following it. Whatever is at
# the temporary name (left by a crash, or planted) is removed first, and noclobber makes the creation
# fail rather than write anywhere else.
replace_file () {
  rm -f "$1.$$" && printf '%s\n' "$2" >"$1.$$" && mv -f "$1.$$" "$1"
}

log () {
  {
    if regular_file "$log_file"; then
      [ "$(($(wc -c <"$log_file")))" -le "$LOG_MAX_BYTES" ] || mv -f "$log_file" "$log_file.1"
    elif [ -e "$log_file" ] || [ -L "$log_file" ]; then
      rm -f "$log_file" # a symlink (or a FIFO) at the log's name is removed, never written through
    fi
    [ -e "$log_file" ] || : >"$log_file"
    regular_file "$log_file" &&
      printf '%s %s[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "${presence:-}" "$*" >>"$log_file"
  } 2>/dev/null
}

# Reads the hook's JSON from stdin into hook_input. Reading with the read builtin, not cat, saves the
# hook a fork.
read_hook_input () {
  hook_input=
  if [ ! -t 0 ]; then
    while IFS= read -r line || [ -n "$line" ]; do hook_input="$hook_input $line"; done 2>/dev/null
  fi
}

# hook_value: the string value of the top-level-looking key $1 in hook_input, without a JSON tool,
# or empty. A quote inside a JSON string is always escaped, so an unescaped `"key"` followed by a
# colon is the key itself. A value with an escape in it comes out with its backslash, which no
# caller accepts.
hook_field () {
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
# presence and its two files. The server takes 1 to 128 characters of [A-Za-z0-9._:-]; an id that is
# not of them, or too long to carry the owner's pid too, is the default session.
set_presence () {
  session_id=
  case $1 in
    '' | *[!A-Za-z0-9._:-]*) ;;
    *) [ "$((${#1} + ${#owner}))" -lt 128 ] && session_id=$1 ;;
  esac
  presence=$session_id:$owner
  pid_file=$state_dir/$presence.pid
  ending_file=$state_dir/$presence.ending
}

# The presence a script argument names; fails unless that is a valid presence.
set_presence_from_name () {
  case $1 in *:*) ;; *) return 1 ;; esac
  owner=${1##*:}
  case $owner in '' | *[!0-9]*) return 1 ;; esac
  set_presence "${1%:*}"
  [ "$presence" = "$1" ]
}

# Reads the hook's JSON and sets the presence of its session in the Claude Code that runs the hook.
read_hook_presence () {
  read_hook_input
  hook_field session_id
  find_owner
  set_presence "$hook_value"
}

# How to look at other processes: /proc where there is one (no fork, which keeps the hook fast),
# ps elsewhere (macOS).
if [ -d /proc/1 ]; then proc_source=procfs; else proc_source='ps'; fi

# proc_state, proc_ppid and proc_comm of a process; fails when there is none.
proc_info () {
  if [ "$proc_source" = procfs ]; then
    { read -r proc_line <"/proc/$1/stat"; } 2>/dev/null || return 1
    proc_comm=${proc_line#*\(}
    proc_comm=${proc_comm%\)*}
    proc_line=${proc_line##*\) }
  else
    proc_line=$(ps -o stat= -o ppid= -o comm= -p "$1" 2>/dev/null) && [ -n "$proc_line" ] || return 1
  fi
  read -r proc_state proc_ppid proc_rest <<EOF
$proc_line
EOF
  [ "$proc_source" = procfs ] || proc_comm=${proc_rest##*/}
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
find_owner () {
  owner=$PPID
  for _ in 1 2 3; do
    proc_info "$owner" || return 0
    case ${proc_comm#-} in
      sh | bash | dash | zsh | ksh | mksh | ash | busybox | fish) [ "$proc_ppid" -gt 0 ] && owner=$proc_ppid ;;
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

# Ends a loop and whatever it is running (sleep, curl): it leads its own process group. Waits for
# it, half a second at the most, so that no heartbeat of it can follow.
kill_loop () {
  kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
  kill_wait=0
  while proc_alive "$1" && [ "$kill_wait" -lt 50 ]; do
    sleep 0.01
    kill_wait=$((kill_wait + 1))
  done
}

# Tells the loops of this Claude Code's sessions that ended by /clear or /resume to end now: their
# successor has been heard, or none will come. Each sends its own stop (heartbeat-loop.sh, USR2).
end_handovers () {
  for file in "$state_dir"/*":$owner.ending" "$state_dir"/.*":$owner.ending"; do
    running_loop "$file" && [ "$loop_pid" != "$$" ] && kill -USR2 "$loop_pid" 2>/dev/null
  done
}

# Runs a command in its own session with none of the caller's stdio, so it outlives Claude Code's
# hook and never holds its pipes open. macOS has no setsid(1); perl, which it ships, can do the same.
detach () {
  {
    if command -v setsid >/dev/null 2>&1; then
      exec setsid "$@"
    elif command -v perl >/dev/null 2>&1; then
      exec perl -MPOSIX -e 'POSIX::setsid(); exec @ARGV or exit 1' "$@"
    else
      trap '' HUP
      exec "$@"
    fi
  } </dev/null >/dev/null 2>&1 &
}

# POSTs {"session_id": presence} to /api/live/ACTION, giving up after POST_TIMEOUT seconds. Quiet on
# success; logs a failure, or a recovery, only when the outcome changes (last_post_ok), so a dead
# server costs one line. The key reaches curl on stdin as a config line: it is never in any process's
# command line. Every request names its presence: one without an id would stop every session.
post () {
  post_action=$1
  post_result=$(printf 'header = "Authorization: Bearer %s"\n' "$CC_LIVE_API_KEY" |
    curl -q -sS -K - --proto =http,https --connect-timeout "$POST_TIMEOUT" --max-time "$POST_TIMEOUT" \
      -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      --data "{\"session_id\":\"$presence\"}" "$endpoint/api/live/$post_action" 2>&1)
  post_status=${post_result#"${post_result%???}"}
  case $post_status in
    2??)
      [ "${last_post_ok:-1}" = 1 ] || log "$post_action works again"
      last_post_ok=1
      ;;
    *)
      post_error=${post_result%???}
      post_error=${post_error%?}
      [ "${last_post_ok:-1}" = 0 ] || log "$post_action failed: HTTP $post_status${post_error:+ ($post_error)}"
      last_post_ok=0
      return 1
      ;;
  esac
}
