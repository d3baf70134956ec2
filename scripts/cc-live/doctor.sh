#!/bin/sh
# doctor.sh [SETTINGS_FILE]: checks that the cc-live hooks can work here, one line per check, each
# that fails with what to do; exits 1 if any failed. Run it as you run Claude Code (the same
# environment), in a project directory to see what would be shared from there. It changes nothing:
# its one authenticated request is POST /api/live/check, and the key reaches curl on its stdin.
#   SETTINGS_FILE   Claude Code's settings with the hooks (default: ~/.claude/settings.json)
case $0 in */*) cc_live_here=${0%/*} ;; *) cc_live_here=. ;; esac
. "$cc_live_here/session.sh"
. "$cc_live_here/share.sh"
# Character classes and lengths count bytes, as in the loop (public_name).
LC_ALL=C
export LC_ALL

case ${1:-} in
  -h | --help) sed -n '2,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
  -*) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
esac
settings=${1:-}

failed=
ok () { printf 'ok    %s\n' "$*"; }
warn () { printf 'warn  %s\n' "$*"; }
fail () { printf 'FAIL  %s\n' "$*"; failed=1; }
skip () { printf 'skip  %s\n' "$*"; }

# Configuration: what the hooks read from the environment.
endpoint=${CC_LIVE_ENDPOINT%/}
case $endpoint in
  '') fail "CC_LIVE_ENDPOINT is not set: the hooks do nothing - export CC_LIVE_ENDPOINT=https://live.example.com where your login shell's environment is set" ;;
  http://localhost | http://localhost[:/]* | http://127.0.0.1 | http://127.0.0.1[:/]* | 'http://[::1]' | 'http://[::1]'[:/]*)
    ok "CC_LIVE_ENDPOINT is $endpoint" ;;
  https://?*) ok "CC_LIVE_ENDPOINT is $endpoint" ;;
  http://?*) warn "CC_LIVE_ENDPOINT is $endpoint: the key crosses the network in clear text - use https://" ;;
  *) fail "CC_LIVE_ENDPOINT is $endpoint, not an http:// or https:// URL - set it to the service's base URL, e.g. https://live.example.com"; endpoint= ;;
esac
key_ok=
if [ -z "${CC_LIVE_API_KEY:-}" ]; then
  fail "CC_LIVE_API_KEY is not set: the hooks do nothing - export the server's key where CC_LIVE_ENDPOINT is set, in a file only you can read"
elif ! bearer_token "$CC_LIVE_API_KEY"; then
  fail "CC_LIVE_API_KEY has characters a bearer token cannot have (only letters, digits and -._~+/=) - set it to the server's key"
elif [ "${#CC_LIVE_API_KEY}" -lt 16 ]; then
  fail "CC_LIVE_API_KEY has ${#CC_LIVE_API_KEY} characters; the server's has at least 16 - set it to the server's key"
else
  key_ok=1
  ok "CC_LIVE_API_KEY is set (${#CC_LIVE_API_KEY} characters)"
fi
if read_interval; then
  ok "CC_LIVE_INTERVAL_SECONDS: a heartbeat every $interval s"
else
  fail "CC_LIVE_INTERVAL_SECONDS is '$CC_LIVE_INTERVAL_SECONDS', not a positive number of seconds - unset it (30) or set e.g. 30"
fi

# The service: does it answer, and does it take the key?
if ! command -v curl >/dev/null 2>&1; then
  fail "curl is not installed: the hooks cannot send anything - install curl"
elif [ -z "$endpoint" ]; then
  skip "the endpoint answers: no endpoint to ask"
else
  http_request nokey GET /healthz
  if [ "$request_status" = 200 ]; then
    ok "the endpoint answers: GET $endpoint/healthz is 200"
  else
    health="GET /healthz: HTTP $request_status${request_error:+ ($request_error)}"
    # A proxy may pass on only the service's paths.
    http_request nokey GET /ws/live
    if [ "$request_status" = 200 ]; then
      ok "the endpoint answers: GET $endpoint/ws/live is 200 ($health)"
    else
      fail "the endpoint does not answer: $health; GET /ws/live: HTTP $request_status${request_error:+ ($request_error)} - check the URL, that the service runs and that the proxy passes /api/live and /ws/live on"
      endpoint=
    fi
  fi
  if [ -z "$endpoint" ] || [ -z "$key_ok" ]; then
    skip "the key is accepted: no endpoint or no key to try"
  else
    http_request key POST /api/live/check
    case $request_status in
      204) ok "the key is accepted: POST $endpoint/api/live/check is 204" ;;
      401) fail "the key is refused: POST /api/live/check is 401 - set CC_LIVE_API_KEY to the server's CC_LIVE_API_KEY" ;;
      429) fail "the key was not tried: POST /api/live/check is 429, after too many wrong keys from this address - wait ten minutes, with the right key set" ;;
      404) fail "POST /api/live/check is 404: the server is older than the hooks (protocol v2) - update it" ;;
      *) fail "the key could not be tried: POST /api/live/check: HTTP $request_status${request_error:+ ($request_error)} - check the service's log" ;;
    esac
  fi
fi

# The hooks in Claude Code's settings.
if installed=$(sh "$cc_live_here/install.sh" --check ${settings:+"$settings"} 2>&1); then
  ok "the hooks are installed: $installed"
elif [ "$?" = 3 ]; then
  warn "the hooks could not be checked: $installed - look for them in the settings, or install python3"
else
  fail "the hooks are not all installed: $installed - run $cc_live_here/install.sh${settings:+ $settings}"
fi

# The state directory.
if ! set_paths; then
  fail "no state directory: neither XDG_STATE_HOME (absolute) nor HOME is set - set HOME"
elif [ ! -e "$state_dir" ] && [ ! -L "$state_dir" ]; then
  ok "the state directory $state_dir will be made (mode 0700) at the first SessionStart"
elif private_dir "$state_dir"; then
  ok "the state directory $state_dir is yours and no one else can write it"
elif [ -L "$state_dir" ]; then
  fail "the state directory $state_dir is a symlink: the hooks do nothing - remove it (rm $state_dir)"
elif [ ! -d "$state_dir" ]; then
  fail "the state directory $state_dir is not a directory: the hooks do nothing - remove it"
elif [ ! -O "$state_dir" ]; then
  fail "the state directory $state_dir is not yours: the hooks do nothing - check what is in it, then remove it"
else
  fail "the state directory $state_dir can be written by others: the hooks do nothing - check what is in it, then chmod 700 $state_dir"
fi

# What would leave the laptop from here.
read_share
[ -z "$share_unknown" ] ||
  fail "CC_LIVE_SHARE names what cannot be shared ($share_unknown) - use a comma-separated list of model, project and tool"
here=$(pwd -P)
shared='the status (working, waiting, idle)'
[ -z "$share_model" ] || shared="$shared, the model's short name (e.g. Opus 4.8)"
[ -z "$share_tool" ] || shared="$shared, what the tool in use does (e.g. editing, running commands)"
if [ -n "$share_project" ]; then
  set_project_name "$here"
  if [ -n "$project_name" ]; then
    shared="$shared, the project \"$project_name\" for $here"
  else
    shared="$shared, no project for $here (${projects_file:-the projects file} maps it to none)"
  fi
fi
ok "shared from here: $shared; never a path, file name, command or prompt"
# Lines of the projects file that map nothing, and names that cannot be sent.
if [ -n "$projects_file" ] && regular_file "$projects_file"; then
  line_number=0 bad_lines=
  while IFS= read -r line || [ -n "$line" ]; do
    line_number=$((line_number + 1))
    line=${line#"${line%%[![:space:]]*}"}
    case $line in '' | '#'*) continue ;; esac
    if ! project_rule "$line"; then
      bad_lines="$bad_lines${bad_lines:+; }line $line_number is not PATH = NAME, and is skipped"
    elif [ "$project_public" != hidden ] && ! public_name "$project_public"; then
      bad_lines="$bad_lines${bad_lines:+; }line $line_number names what the server would not take (1 to 48 printable characters), so its directories send no project"
    fi
  done <"$projects_file"
  if [ -n "$bad_lines" ]; then
    fail "$projects_file: $bad_lines - fix those lines"
  else
    ok "$projects_file: $line_number lines, each PATH = NAME or PATH = hidden"
  fi
elif [ -n "$share_project" ]; then
  warn "CC_LIVE_SHARE names project but there is no ${projects_file:-projects file}: no project is sent - map directories there, one PATH = NAME a line"
fi

# The log: failures since the last success, and what the loops noted.
if [ -n "${log_file:-}" ] && regular_file "$log_file" && [ -s "$log_file" ]; then
  last_lines=$(tail -n 3 "$log_file")
  case $last_lines in
    *' failed: '* | *'refused'* | *'must be'* | *'cannot'*) warn "the last lines of $log_file:" ;;
    *) ok "the last lines of $log_file:" ;;
  esac
  printf '%s\n' "$last_lines" | sed 's/^/        /'
else
  ok "the log ${log_file:-} is empty: nothing has failed"
fi

[ -z "$failed" ] || exit 1
exit 0
