#!/bin/sh
# Adds the cc-live hooks to Claude Code's user settings, removes them, or checks they are all there
# (--check: exit 0 if so, 1 if not, 3 if it cannot tell):
#   install.sh [--uninstall | --check] [SETTINGS_FILE]    (default: ~/.claude/settings.json)
# Idempotent; keeps every other setting and hook; backs the file up (FILE.cc-live.bak) before
# changing it and refuses a file that is not valid JSON. Editing JSON safely needs a JSON parser:
# this uses python3 (macOS developer tools and Linux desktops have it) and, without it, prints the
# snippet to paste by hand.
set -u

action=install
case ${1:-} in
  --uninstall) action=uninstall; shift ;;
  --check) action=check; shift ;;
  -h | --help) sed -n '2,4s/^# \{0,1\}//p' "$0"; exit 0 ;;
  -*) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
esac
settings=${1:-${CLAUDE_CONFIG_DIR:-$HOME/.claude}/settings.json}
here=$(cd "$(dirname "$0")" && pwd) || exit 1

# Claude Code runs a hook command through a shell: quote the path when it needs it.
hook_command () {
  case $1 in
    *[!A-Za-z0-9_./-]*)
      case $1 in *\'*) echo "cannot install from a path with a single quote: $1" >&2; exit 1 ;; esac
      printf "'%s'" "$1"
      ;;
    *) printf '%s' "$1" ;;
  esac
}
start_command=$(hook_command "$here/start.sh") || exit 1
stop_command=$(hook_command "$here/stop.sh") || exit 1
event_command=$(hook_command "$here/event.sh") || exit 1
# The events event.sh handles (see there); SessionStart and SessionEnd have hooks of their own.
status_events='UserPromptSubmit PreToolUse PostToolUse PostToolUseFailure PermissionRequest Notification Stop StopFailure SubagentStart PreCompact'
# Seconds Claude Code gives a hook before it kills it: each returns within milliseconds.
timeout=5

if ! command -v python3 >/dev/null 2>&1; then
  if [ "$action" = check ]; then
    echo "python3 is not available, so the hooks in $settings could not be checked" >&2
    exit 3
  fi
  entry () {
    printf '  "%s": [{ "hooks": [{ "type": "command", "command": "%s", "timeout": %s }] }]' "$1" "$2" "$timeout"
  }
  echo "python3 is not available, so $settings was not changed. Add this to its \"hooks\" object by hand"
  echo "(merging with any entries for the same events already there):"
  echo
  entry SessionStart "$start_command"
  printf ',\n'
  entry SessionEnd "$stop_command"
  for event in $status_events; do
    printf ',\n'
    entry "$event" "$event_command"
  done
  echo
  exit 1
fi

exec python3 - "$action" "$settings" "$timeout" "$start_command" "$stop_command" "$event_command" $status_events <<'PY'
import json, os, shutil, sys, tempfile

action, path, timeout, start_command, stop_command, event_command, *status_events = sys.argv[1:]
ours = {'SessionStart': start_command, 'SessionEnd': stop_command, **{event: event_command for event in status_events}}

def fail(message):
    print(f'{path}: {message}{"" if action == "check" else "; nothing changed"}', file=sys.stderr)
    sys.exit(1)

try:
    with open(path, encoding='utf-8') as file:
        settings = json.load(file)
    exists = True
except FileNotFoundError:
    if action == 'check':
        print(f'{path}: no such file: no cc-live hook is installed', file=sys.stderr)
        sys.exit(1)
    settings, exists = {}, False
except (ValueError, UnicodeDecodeError) as error:
    fail(f'not valid JSON ({error})')
except OSError as error:
    fail(error.strerror)
if not isinstance(settings, dict):
    fail('not a JSON object')
hooks = settings.get('hooks', {})
if not isinstance(hooks, dict) or not all(isinstance(hooks.get(event, []), list) for event in ours):
    fail('"hooks" is not in the form Claude Code uses')

def has_command(group, command):
    return isinstance(group, dict) and any(
        isinstance(hook, dict) and hook.get('command') == command for hook in group.get('hooks', []))

if action == 'check':
    missing = [event for event, command in ours.items() if not any(has_command(group, command) for group in hooks.get(event, []))]
    if missing:
        print(f'{path}: cc-live hooks missing for {", ".join(missing)}', file=sys.stderr)
        sys.exit(1)
    print(f'{path}: cc-live hooks installed for all {len(ours)} events')
    sys.exit(0)

changed = False
for event, command in ours.items():
    groups = hooks.get(event, [])
    present = any(has_command(group, command) for group in groups)
    if action == 'install' and not present:
        hooks[event] = groups + [{'hooks': [{'type': 'command', 'command': command, 'timeout': int(timeout)}]}]
        changed = True
    elif action == 'uninstall' and present:
        # Drop our hook, then only the containers our removal left empty.
        kept = []
        for group in groups:
            if has_command(group, command):
                group = {**group, 'hooks': [hook for hook in group['hooks'] if not (isinstance(hook, dict) and hook.get('command') == command)]}
                if not group['hooks']:
                    continue
            kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
        changed = True

if not changed:
    print(f'{path}: cc-live hooks already {"installed" if action == "install" else "absent"}')
    sys.exit(0)
if hooks or action == 'install':
    settings['hooks'] = hooks
else:
    del settings['hooks']

directory = os.path.dirname(os.path.abspath(path))
os.makedirs(directory, exist_ok=True)
if exists:
    shutil.copy2(path, path + '.cc-live.bak')
descriptor, temporary = tempfile.mkstemp(dir=directory, prefix='.settings.', suffix='.tmp')
with os.fdopen(descriptor, 'w', encoding='utf-8') as file:
    json.dump(settings, file, indent=2, ensure_ascii=False)
    file.write('\n')
if exists:
    shutil.copymode(path, temporary)
os.replace(temporary, path)
backup = f' (backup: {path}.cc-live.bak)' if exists else ''
print(f'{path}: cc-live hooks {"added" if action == "install" else "removed"}{backup}')
PY
