# Sourced by heartbeat-loop.sh, start.sh and doctor.sh: what may leave the laptop. Beside a
# session's status, only what CC_LIVE_SHARE names, and each only in a form made here: a verb from a
# fixed list (common.sh), a model's short name, a name the owner gave a project.

# share_model, share_project, share_tool: 1 for each field CC_LIVE_SHARE (comma-separated, default
# empty) names; share_unknown: the names in it that are none of these, which share nothing.
read_share () {
  share_model= share_project= share_tool= share_unknown=
  share_rest=${CC_LIVE_SHARE:-},
  while [ -n "$share_rest" ]; do
    share_name=${share_rest%%,*}
    share_rest=${share_rest#*,}
    share_name=${share_name#"${share_name%%[![:space:]]*}"}
    share_name=${share_name%"${share_name##*[![:space:]]}"}
    case $share_name in
      model) share_model=1 ;;
      project) share_project=1 ;;
      tool) share_tool=1 ;;
      '') ;;
      *) share_unknown="$share_unknown${share_unknown:+, }$share_name" ;;
    esac
  done
}

# model_name: the short public name of a Claude model id, or empty for an id of any other shape, so
# that an odd string is never passed on. claude-opus-4-8[1m] → Opus 4.8, claude-opus-5-5 → Opus 5.5,
# claude-sonnet-4-20250514 → Sonnet 4, claude-3-5-haiku-20241022 → Haiku 3.5, and the same ids as
# Bedrock (us.anthropic.…-v1:0) and Vertex (…@20250929) name them.
set_model_name () {
  model_name=
  model=${1##*anthropic.}
  model=${model%%\[*}
  model=${model%%@*}
  case $model in claude-*) model=${model#claude-} ;; *) return 0 ;; esac
  case $model in *-v[0-9]:[0-9]) model=${model%-v*} ;; esac
  case $model in *-latest) model=${model%-latest} ;; esac
  case $model in *-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) model=${model%-*} ;; esac
  case $model in
    opus-* | sonnet-* | haiku-*) model_family=${model%%-*} model_version=${model#*-} ;;
    *-opus | *-sonnet | *-haiku) model_family=${model##*-} model_version=${model%-*} ;;
    *) return 0 ;;
  esac
  case $model_version in
    [1-9] | [1-9][0-9]) ;;
    [1-9]-[0-9] | [1-9]-[0-9][0-9] | [1-9][0-9]-[0-9] | [1-9][0-9]-[0-9][0-9]) model_version=${model_version%-*}.${model_version#*-} ;;
    *) return 0 ;;
  esac
  case $model_family in opus) model_family=Opus ;; sonnet) model_family=Sonnet ;; haiku) model_family=Haiku ;; esac
  model_name="$model_family $model_version"
}

# Whether $1 may be sent as a public name (a model, a project): what the server takes, 1 to 48
# printable characters with no space at either end. Printable ASCII is checked here (the caller runs
# with LC_ALL=C, so that classes and lengths count bytes in every shell); anything else by perl, which
# knows Unicode's categories (no control, format, private-use, unassigned or separator characters),
# and without perl it is not sent.
public_name () {
  case $1 in '' | [[:space:]]* | *[[:space:]]) return 1 ;; esac
  case $1 in
    *[![:print:]]*)
      command -v perl >/dev/null 2>&1 && perl -e '
        my $name = shift;
        utf8::decode($name) or exit 1;
        my $c = qr/[\p{C}\p{Zl}\p{Zp}]/;
        exit !($name =~ /\A(?!\s)(?:(?!$c).)*(?<!\s)\z/s && length $name <= 48);' -- "$1" 2>/dev/null
      ;;
    *) [ "${#1}" -le 48 ] ;;
  esac
}

# project_name: the public name the owner gave the directory $1 in the projects file, or empty: for a
# directory no line maps, one mapped to `hidden`, or a name that cannot be sent. The first line whose
# path or pattern matches the directory or one above it wins.
set_project_name () {
  project_name=
  [ -n "$1" ] && [ -n "$projects_file" ] && regular_file "$projects_file" || return 0
  while IFS= read -r project_line || [ -n "$project_line" ]; do
    project_rule "$project_line" || continue
    # Unquoted: the path is a pattern, where *, ? and [...] match any characters, / included.
    # shellcheck disable=SC2254
    case $1 in $project_pattern | $project_pattern/*) ;; *) continue ;; esac
    [ "$project_public" = hidden ] || ! public_name "$project_public" || project_name=$project_public
    return 0
  done <"$projects_file"
}

# Splits a line of the projects file, `PATH-OR-PATTERN = PUBLIC NAME` (or `= hidden`), into
# project_pattern (`~/` there is HOME; no trailing /) and project_public; fails for a blank line, a
# comment (#) and a line without `=` or without a path.
project_rule () {
  project_line=${1#"${1%%[![:space:]]*}"}
  case $project_line in '' | '#'* | *=*) ;; *) return 1 ;; esac
  project_pattern=${project_line%%=*}
  [ "$project_pattern" != "$project_line" ] || return 1
  project_pattern=${project_pattern%"${project_pattern##*[![:space:]]}"}
  project_public=${project_line#*=}
  project_public=${project_public#"${project_public%%[![:space:]]*}"}
  project_public=${project_public%"${project_public##*[![:space:]]}"}
  case $project_pattern in
    '' | '#'*) return 1 ;;
    '~') project_pattern=$HOME ;;
    '~/'*) project_pattern=$HOME/${project_pattern#'~/'} ;;
  esac
  while case $project_pattern in ?*/) ;; *) false ;; esac do project_pattern=${project_pattern%/}; done
}

# json_value: $1 as the inside of a JSON string. Only `"` and `\` need escaping: public_name lets no
# control character through.
json_escape () {
  json_value=
  json_rest=$1
  while :; do
    case $json_rest in *[\"\\]*) ;; *) break ;; esac
    json_head=${json_rest%%[\"\\]*}
    json_rest=${json_rest#"$json_head"}
    json_value=$json_value$json_head\\${json_rest%"${json_rest#?}"}
    json_rest=${json_rest#?}
  done
  json_value=$json_value$json_rest
}
