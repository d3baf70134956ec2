# Shared by start.sh, stop.sh, heartbeat-loop.sh and send-stop.sh: sourced, never run. POSIX sh;
# needs only curl beyond the base system. Nothing here may print to stdout or stderr: whatever a
# SessionStart hook prints lands in the model's context, and errors go to the log file instead.

umask 077
case $cc_live_here in /*) ;; *) cc_live_here=$PWD/$cc_live_here ;; esac
LOG_MAX_BYTES=65536
POST_TIMEOUT=5 # seconds; no retries: the next heartbeat is the retry
DEFAULT_SESSION=@default # a file name no session id can take: '@' is outside the id alphabet

# Exits 0 at once, doing nothing, unless both the endpoint and the key are set. Opens the per-user
# state directory, which holds one pid file per session and the log.
require_config () {
  [ -n "${CC_LIVE_ENDPOINT:-}" ] && [ -n "${CC_LIVE_API_KEY:-}" ] || exit 0
  endpoint=${CC_LIVE_ENDPOINT%/}
  case ${XDG_STATE_HOME:-} in
    /*) state_dir=$XDG_STATE_HOME/cc-live ;;
    *) [ -n "${HOME:-}" ] || exit 0; state_dir=$HOME/.local/state/cc-live ;;
  esac
  [ -d "$state_dir" ] || mkdir -p "$state_dir" 2>/dev/null || exit 0 # 0700, by the umask
  log_file=$state_dir/cc-live.log
  # The key goes into a curl config line; the bearer token alphabet (RFC 6750) keeps it one line
  # that needs no quoting.
  case $CC_LIVE_API_KEY in
    *[!A-Za-z0-9._~+/=-]*) log "CC_LIVE_API_KEY has characters a bearer token cannot have"; exit 0 ;;
  esac
}

log () {
  {
    if [ -f "$log_file" ] && [ "$(($(wc -c <"$log_file")))" -gt "$LOG_MAX_BYTES" ]; then
      mv -f "$log_file" "$log_file.1"
    fi
    printf '%s %s[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "${session_name:-}" "$*" >>"$log_file"
  } 2>/dev/null
}

# session_id (empty for the default session) and session_name (its file name) for a session id as
# the server accepts it: 1 to 128 characters of [A-Za-z0-9._:-]. Anything else is the default session.
set_session () {
  session_id=
  case $1 in
    '' | *[!A-Za-z0-9._:-]*) ;;
    *) [ "${#1}" -le 128 ] && session_id=$1 ;;
  esac
  session_name=${session_id:-$DEFAULT_SESSION}
  pid_file=$state_dir/$session_name.pid
}

# The session a pid file name or a script argument names; fails unless that is a valid name.
set_session_from_name () {
  case $1 in
    "$DEFAULT_SESSION") set_session '' ;;
    *) set_session "$1" ;;
  esac
  [ "$session_name" = "$1" ]
}

# Reads the hook's JSON from stdin and picks out "session_id" without a JSON tool. A quote inside a
# JSON string is always escaped, so an unescaped `"session_id"` followed by a colon is the key itself.
# Reading with the read builtin, not cat, saves the hook a fork.
read_hook_session () {
  input=
  if [ ! -t 0 ]; then
    while IFS= read -r line || [ -n "$line" ]; do input="$input $line"; done 2>/dev/null
  fi
  rest=$input
  found=
  while [ -z "$found" ]; do
    case $rest in *'"session_id"'*) ;; *) break ;; esac
    rest=${rest#*'"session_id"'}
    value=${rest#"${rest%%[![:space:]]*}"}
    case $value in :*) ;; *) continue ;; esac
    value=${value#:}
    value=${value#"${value%%[![:space:]]*}"}
    case $value in '"'*'"'*) value=${value#'"'}; found=${value%%'"'*} ;; esac
  done
  set_session "$found"
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

# Whether a pid file names a running loop for that session; sets loop_pid and loop_owner. The
# command line is checked too, so a pid reused after a reboot is never mistaken for a loop.
running_loop () {
  { read -r loop_pid loop_owner <"$state_dir/$1.pid"; } 2>/dev/null || return 1
  case $loop_pid in '' | *[!0-9]*) return 1 ;; esac
  proc_alive "$loop_pid" || return 1
  case $(proc_args "$loop_pid") in *"/heartbeat-loop.sh $1 "*) return 0 ;; esac
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

# POSTs to /api/live/ACTION for session_id (no body for the default session), giving up after
# POST_TIMEOUT seconds. Quiet on success; logs a failure, or a recovery, only when the outcome changes
# (last_post_ok), so a dead server costs one line. The key reaches curl on stdin as a config line:
# it is never in any process's command line.
post () {
  post_action=$1
  set -- -X POST
  [ -z "$session_id" ] || set -- "$@" -H 'Content-Type: application/json' --data "{\"session_id\":\"$session_id\"}"
  post_result=$(printf 'header = "Authorization: Bearer %s"\n' "$CC_LIVE_API_KEY" |
    curl -q -sS -K - --proto =http,https --connect-timeout "$POST_TIMEOUT" --max-time "$POST_TIMEOUT" \
      -o /dev/null -w '%{http_code}' "$@" "$endpoint/api/live/$post_action" 2>&1)
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

# Sends stop for the session. A stop without a session id ends every session on the server, so the
# default session only sends it while no other session of this user is live; otherwise it expires.
send_stop () {
  if [ -z "$session_id" ]; then
    for other in "$state_dir"/*.pid; do
      other=${other##*/}
      other=${other%.pid}
      if [ "$other" != "$DEFAULT_SESSION" ] && running_loop "$other"; then
        log "other sessions are live: the default session is left to expire"
        return 0
      fi
    done
  fi
  post stop
}
