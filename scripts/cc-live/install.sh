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
case $here in *\'*) echo "cannot install from a path with a single quote: $here" >&2; exit 1 ;; esac
cc_live_here=$here
. "$here/common.sh" # TOOL_VERBS

# A word of the command Claude Code runs a hook with, through a shell: quoted when it needs it.
shell_word () {
  case $1 in
    *[!A-Za-z0-9_./-]*) printf "'%s'" "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}
event_script=$(shell_word "$here/event.sh")
# The status events' hooks source event.sh in the shell Claude Code starts for them, telling it the
# event and, for a tool, its verb: no second shell and no read of the JSON on every tool call (see
# event.sh). Were event.sh gone (the scripts removed without --uninstall), the test makes the hook a
# silent success rather than the shell's error status 2, which Claude Code takes as "block the tool".
status_command () {
  printf '[ ! -f %s ] || cc_live_here=%s cc_live_event=%s%s . %s' "$event_script" "$(shell_word "$here")" "$1" \
    "${2:+ cc_live_verb=$(shell_word "$2")}" "$event_script"
}

# The hooks, one per line: EVENT, the matcher (tool names, or a regular expression, for PreToolUse)
# and the command, separated by tabs. SessionStart and SessionEnd run start.sh and stop.sh; every
# other event runs event.sh (see there); PreToolUse has one hook per verb of TOOL_VERBS, and one for
# every other tool.
tab=$(printf '\t')
hooks=
add_hook () {
  hooks="$hooks$1$tab$2$tab$3
"
}
add_hook SessionStart '' "$(shell_word "$here/start.sh")"
add_hook SessionEnd '' "$(shell_word "$here/stop.sh")"
add_hook UserPromptSubmit '' "$(status_command UserPromptSubmit)"
named_tools=
tools_ifs=$IFS
IFS='
'
for tools in $TOOL_VERBS; do
  add_hook PreToolUse "${tools%%=*}" "$(status_command PreToolUse "${tools#*=}")"
  named_tools=${named_tools:+$named_tools|}${tools%%=*}
done
IFS=$tools_ifs
add_hook PreToolUse "^(?!($named_tools)\$)" "$(status_command PreToolUse "$OTHER_TOOLS_VERB")"
# A tool that has run, has failed or waits for permission keeps the verb its PreToolUse gave.
for event in PostToolUse PostToolUseFailure PermissionRequest; do
  add_hook "$event" '' "$(status_command "$event" =)"
done
for event in Notification Stop StopFailure SubagentStart PreCompact; do
  add_hook "$event" '' "$(status_command "$event")"
done
# Seconds Claude Code gives a hook before it kills it: each returns within milliseconds.
timeout=5

if ! command -v python3 >/dev/null 2>&1; then
  if [ "$action" = check ]; then
    echo "python3 is not available, so the hooks in $settings could not be checked" >&2
    exit 3
  fi
  echo "python3 is not available, so $settings was not changed. Add this to its \"hooks\" object by hand"
  echo "(merging with any entries for the same events already there):"
  echo
  # One JSON member per event, each hook a group of its own; the commands hold no double quote or
  # backslash but in the directory's name.
  json_string () {
    json=$1 escaped=
    while [ -n "$json" ]; do
      char=${json%"${json#?}"}
      json=${json#?}
      case $char in '"' | \\) escaped="$escaped\\$char" ;; *) escaped="$escaped$char" ;; esac
    done
    printf '"%s"' "$escaped"
  }
  previous=
  IFS='
'
  for hook in $hooks; do
    event=${hook%%"$tab"*} rest=${hook#*"$tab"}
    matcher=${rest%%"$tab"*} command=${rest#*"$tab"}
    if [ "$event" = "$previous" ]; then printf ',\n'; else
      [ -z "$previous" ] || printf '\n  ],\n'
      printf '  "%s": [\n' "$event"
    fi
    previous=$event
    printf '    { %s"hooks": [{ "type": "command", "command": %s, "timeout": %s }] }' \
      "${matcher:+"\"matcher\": $(json_string "$matcher"), "}" "$(json_string "$command")" "$timeout"
  done
  printf '\n  ]\n'
  exit 1
fi

exec python3 - "$action" "$settings" "$timeout" "$hooks" "$here/start.sh" "$here/stop.sh" "$here/event.sh" <<'PY'
import json, os, shutil, sys, tempfile

action, path, timeout, hook_lines, *scripts = sys.argv[1:]
wanted = [tuple(line.split('\t')) for line in hook_lines.splitlines()]
events = list(dict.fromkeys(event for event, _, _ in wanted))

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
if not isinstance(hooks, dict) or not all(isinstance(hooks.get(event, []), list) for event in events):
    fail('"hooks" is not in the form Claude Code uses')

# Ours: every hook that runs one of these scripts, as this install.sh writes it or as an older one
# did (which an upgrade replaces).
def ours(hook):
    return isinstance(hook, dict) and isinstance(hook.get('command'), str) and any(script in hook['command'] for script in scripts)

def groups_of(event):
    groups = hooks.get(event, [])
    return [group for group in groups if isinstance(group, dict) and isinstance(group.get('hooks'), list)] if isinstance(groups, list) else []

found = [(event, group.get('matcher') or '', hook['command'])
         for event in hooks for group in groups_of(event) for hook in group['hooks'] if ours(hook)]
missing = [hook for hook in wanted if hook not in found]
stale = [hook for hook in found if hook not in wanted]

def names(hooks):
    return ', '.join(dict.fromkeys(event for event, _, _ in hooks))

if action == 'check':
    if missing:
        print(f'{path}: cc-live hooks missing for {names(missing)}', file=sys.stderr)
        sys.exit(1)
    if stale:
        print(f'{path}: cc-live hooks out of date for {names(stale)} (from an older install.sh)', file=sys.stderr)
        sys.exit(1)
    print(f'{path}: cc-live hooks installed for all {len(events)} events')
    sys.exit(0)

if (action == 'install' and not missing and not stale) or (action == 'uninstall' and not found):
    print(f'{path}: cc-live hooks already {"installed" if action == "install" else "absent"}')
    sys.exit(0)

# Drop our hooks, then only the containers our removal left empty; an install adds them back as
# they are now, after the ones already there.
for event in list(hooks):
    groups = hooks[event]
    if not isinstance(groups, list):
        continue
    kept = []
    for group in groups:
        if group in groups_of(event) and any(ours(hook) for hook in group['hooks']):
            group = {**group, 'hooks': [hook for hook in group['hooks'] if not ours(hook)]}
            if not group['hooks']:
                continue
        kept.append(group)
    if kept or not groups:
        hooks[event] = kept
    else:
        del hooks[event]
if action == 'install':
    for event, matcher, command in wanted:
        hook = {'type': 'command', 'command': command, 'timeout': int(timeout)}
        hooks.setdefault(event, []).append({'matcher': matcher, 'hooks': [hook]} if matcher else {'hooks': [hook]})
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
