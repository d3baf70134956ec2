# Sourced by the scripts that run a presence (start.sh, stop.sh, heartbeat-loop.sh, send-stop.sh)
# and by doctor.sh: on top of common.sh, the state directory's safety, the log, the loop's life and
# the requests. Nothing here prints to stdout or stderr either.
. "$cc_live_here/common.sh"
LOG_MAX_BYTES=65536
POST_TIMEOUT=5 # seconds; no retries: the next heartbeat is the retry
# How long a session ended by /clear or /resume waits for the next one: twice curl's timeout, so the
# successor's first heartbeat has had every chance. Claude Code starts the next session at once.
HANDOVER_SECONDS=10

# interval: the heartbeat period, CC_LIVE_INTERVAL_SECONDS (default 30); fails, with 30, for a value
# that is not a positive number of seconds.
read_interval () {
  interval=${CC_LIVE_INTERVAL_SECONDS:-30}
  case $interval in
    *[!0-9.]* | *.*.* | . | *.) interval=0 ;;
  esac
  case $interval in
    *[1-9]*) ;;
    *) interval=30; return 1 ;;
  esac
}

# The key goes into a curl config line; the bearer token alphabet (RFC 6750) keeps it one line that
# needs no quoting.
bearer_token () {
  case $1 in '' | *[!A-Za-z0-9._~+/=-]*) return 1 ;; esac
}

# Exits 0 at once, doing nothing, unless both the endpoint and the key are set and the per-user state
# directory, which holds the pid files and the log, is the user's own.
require_config () {
  configured || exit 0
  endpoint=${CC_LIVE_ENDPOINT%/}
  [ -d "$state_dir" ] || mkdir -p "$state_dir" 2>/dev/null || exit 0 # 0700, by the umask
  private_dir "$state_dir" || exit 0
  bearer_token "$CC_LIVE_API_KEY" || { log "CC_LIVE_API_KEY has characters a bearer token cannot have"; exit 0; }
}

# Whether a directory is a real one (not a symlink), the user's, and writable by no one else: only
# then can no one else plant or swap what the hooks write there. Asked of find, whose -user and -perm
# are POSIX and alike on GNU and BSD (macOS), unlike stat's options; find looks at a symlink given as
# its operand without following it, so a symlink is no directory here.
private_dir () {
  [ -n "$(find "$1" -prune -type d -user "$(id -u)" ! -perm -020 ! -perm -002 2>/dev/null)" ]
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
    # printf, not `:`: should the file appear in between, noclobber fails the redirection, which on a
    # special builtin would end the shell.
    [ -e "$log_file" ] || printf '' >"$log_file"
    regular_file "$log_file" &&
      printf '%s %s[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "${presence:-}" "$*" >>"$log_file"
  } 2>/dev/null
}

# Reads the hook's JSON from stdin into hook_input. Reading with the read builtin, not cat, saves the
# hook a fork. For the small JSON of SessionStart and SessionEnd.
read_hook_input () {
  hook_input=
  hook_input_read=1
  if [ ! -t 0 ]; then
    while IFS= read -r line || [ -n "$line" ]; do hook_input="$hook_input $line"; done 2>/dev/null
  fi
}

# The presence a script argument names; fails unless that is a valid presence.
set_presence_from_name () {
  case $1 in *:*) ;; *) return 1 ;; esac
  owner=${1##*:}
  case $owner in '' | *[!0-9]*) return 1 ;; esac
  set_presence "${1%:*}"
  [ "$presence" = "$1" ]
}

# Reads the hook's JSON and sets the presence of its session in the Claude Code that runs the hook,
# and the session's directory (hook_session).
read_hook_presence () {
  read_hook_input
  hook_session
}

# The presence's newest whole status record: newest (its file, empty without one), newest_status,
# newest_tool and newest_cwd. A tool of `=` keeps the one before: newest_tool is then that of the
# newest record that names one, or `=` when none of those left does (the loop has read it already).
# The older ones are removed when there are at least $1 of them (never without $1). A record still
# being written is passed over: its hook wakes the loop once it is whole.
newest_status () {
  newest_prune=${1:-0}
  set --
  newest= named=
  for file in "$status_prefix"*; do
    status_record "$file" && regular_file "$file" &&
      { IFS= read -r record_status && IFS= read -r record_tool && IFS= read -r record_cwd && IFS= read -r record_end; } <"$file" &&
      [ "$record_end" = . ] || continue
    if [ "$record_tool" != = ] && { [ -z "$named" ] || newer_record "$named_time" "$named_pid"; }; then
      named=$file named_time=$record_time named_pid=$record_pid named_tool=$record_tool
    fi
    if [ -z "$newest" ] || newer_record "$newest_time" "$newest_pid"; then
      [ -z "$newest" ] || set -- "$@" "$newest"
      newest=$file newest_time=$record_time newest_pid=$record_pid
      newest_status=$record_status newest_tool=$record_tool newest_cwd=$record_cwd
    else
      set -- "$@" "$file"
    fi
  done 2>/dev/null
  [ "$newest_tool" != = ] || [ -z "$named" ] || newest_tool=$named_tool
  [ "$newest_prune" -eq 0 ] || [ "$#" -lt "$newest_prune" ] || rm -f "$@"
}

# Whether the record just read (record_time, record_pid) is newer than the one of time $1 and pid $2.
newer_record () {
  [ "$record_time" -gt "$1" ] || { [ "$record_time" -eq "$1" ] && [ "$record_pid" -gt "$2" ]; }
}

# Removes what the hooks recorded for the presence (its model, waiting mark and status records),
# once it is over, and the files given.
forget_presence () {
  set -- "$@" "$model_file" "$waiting_file"
  for file in "$status_prefix"*; do
    status_record "$file" && set -- "$@" "$file"
  done
  rm -f "$@"
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

# http_request key|nokey METHOD PATH [JSON]: sends a request to the endpoint, with the key or without,
# giving up after POST_TIMEOUT seconds; sets request_status (the HTTP status, 000 without an answer)
# and request_error (what curl said, if anything). The key reaches curl on stdin as a config line:
# it is never in any process's command line.
http_request () {
  request_key=$1 request_method=$2 request_path=$3
  if [ -n "${4:-}" ]; then set -- -H 'Content-Type: application/json' --data "$4"; else set --; fi
  request_result=$(
    { [ "$request_key" != key ] || printf 'header = "Authorization: Bearer %s"\n' "$CC_LIVE_API_KEY"; } |
      curl -q -sS -K - --proto =http,https --connect-timeout "$POST_TIMEOUT" --max-time "$POST_TIMEOUT" \
        -o /dev/null -w '%{http_code}' -X "$request_method" "$@" "$endpoint$request_path" 2>&1)
  request_status=${request_result#"${request_result%???}"}
  request_error=${request_result%???}
  request_error=${request_error%?}
}

# POSTs the JSON body $2, {"session_id": presence} when there is none, to /api/live/ACTION; post_status
# is the HTTP status. Quiet on success; logs a failure, or a recovery, only when the outcome changes
# (last_post_ok), so a dead server costs one line. Every request names its presence: one without an
# id would stop every session.
post () {
  post_action=$1
  post_body=${2:-}
  [ -n "$post_body" ] || post_body="{\"session_id\":\"$presence\"}"
  http_request key POST "/api/live/$post_action" "$post_body"
  post_status=$request_status
  case $post_status in
    2??)
      [ "${last_post_ok:-1}" = 1 ] || log "$post_action works again"
      last_post_ok=1
      ;;
    *)
      [ "${last_post_ok:-1}" = 0 ] || log "$post_action failed: HTTP $post_status${request_error:+ ($request_error)}"
      last_post_ok=0
      return 1
      ;;
  esac
}
