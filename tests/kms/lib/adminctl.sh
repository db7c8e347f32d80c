# shellcheck shell=bash
# Shared body of kmsctl and vaultctl: sends one admin verb to a KMS test server.
#   adminctl_main DEFAULT_URL_VARS -- [--url URL | --port N] [--cacert FILE] VERB [JSON | k=v | k:=json ...]
# k=v becomes a JSON string (integers, true, false and null stay raw); k:=json
# inserts raw JSON; a single argument starting with "{" is sent as the body.
# Prints the server's JSON answer; exits 1 if the answer is not HTTP 200.
# Limits: needs bash and curl only; no JSON pretty-printing.

adminctl_json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}

adminctl_main() {
  local name=$1 envvars=$2
  shift 2
  local url='' cacert='' v
  for v in $envvars; do
    if [ -z "$url" ] && [ -n "${!v:-}" ]; then url=${!v}; fi
  done
  cacert=${ADMINCTL_CACERT:-}
  while [ $# -gt 0 ]; do
    case "$1" in
      --url) url=$2; shift 2 ;;
      --port) url="http://127.0.0.1:$2"; shift 2 ;;
      --cacert) cacert=$2; shift 2 ;;
      -h|--help) adminctl_usage "$name" "$envvars"; return 0 ;;
      *) break ;;
    esac
  done
  if [ $# -lt 1 ] || [ -z "$url" ]; then adminctl_usage "$name" "$envvars" >&2; return 2; fi
  local verb=$1
  shift
  local body
  if [ $# -eq 1 ] && [ "${1:0:1}" = "{" ]; then
    body=$1
  else
    body='{'
    local sep='' arg k val
    for arg in "$@"; do
      if [[ "$arg" == *":="* && "${arg%%:=*}" != *"="* ]]; then
        k=${arg%%:=*}; val=${arg#*:=}
      elif [[ "$arg" == *"="* ]]; then
        k=${arg%%=*}; val=${arg#*=}
        if ! [[ "$val" =~ ^-?[0-9]+$ || "$val" == true || "$val" == false || "$val" == null ]]; then
          val=$(adminctl_json_string "$val")
        fi
      else
        echo "$name: argument '$arg' is not key=value, key:=json or a JSON object" >&2
        return 2
      fi
      body+="$sep$(adminctl_json_string "$k"):$val"
      sep=','
    done
    body+='}'
  fi
  local curlargs=(-sS --noproxy '*' -X POST -H 'Content-Type: application/json' --data-binary "$body" -w '\n%{http_code}')
  [ -n "$cacert" ] && curlargs+=(--cacert "$cacert")
  local out code
  out=$(curl "${curlargs[@]}" "${url%/}/_admin/$verb") || return 1
  code=${out##*$'\n'}
  printf '%s\n' "${out%$'\n'*}"
  [ "$code" = 200 ]
}

adminctl_usage() {
  cat <<USAGE
usage: $1 [--url URL | --port N] [--cacert FILE] VERB [JSON | key=value | key:=json ...]
  URL defaults to \$${2// / or \$}; --cacert defaults to \$ADMINCTL_CACERT.
  "$1 help" lists the server's verbs; see tests/kms/README.md.
USAGE
}
