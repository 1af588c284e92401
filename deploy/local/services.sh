#!/usr/bin/env bash
# Start, stop or show the seven services of the local stack as background processes.
#   deploy/local/services.sh start|stop|status
# Each service: `python -m <name> serve`, log in var/log/<name>.log, pid in var/run/<name>.pid.
# Secrets: generated on the first start under var/secrets/ (deploy/local/secrets.sh) and
# given to the services that need them; identity alone gets the token signing key.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SERVICES=(identity consent application judgement notification document portal)
declare -A PORTS=([portal]=8000 [identity]=8001 [consent]=8002 [application]=8003 [judgement]=8004 [notification]=8005 [document]=8006)
PY="$ROOT/.venv/bin/python"
SECRETS=(IDENTITY_SIGNING_KEYS PORTAL_COOKIE_SECRET DOCUMENT_SIGNING_KEY)
declare -A SECRET_OF=([identity]=IDENTITY_SIGNING_KEYS [portal]=PORTAL_COOKIE_SECRET [document]=DOCUMENT_SIGNING_KEY)
# The demo stack approves complete consent applications automatically (off in production).
export CONSENT_AUTO_APPROVE="${CONSENT_AUTO_APPROVE:-true}"
mkdir -p var/log var/run
say() { echo "[services] $*"; }

running() { local pid_file="var/run/$1.pid"; [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

start() {
  # the stack's own random secrets (never the published development placeholders)
  eval "$(deploy/local/secrets.sh env)"
  # identity believes X-Forwarded-For only from the portal on this machine
  export IDENTITY_TRUSTED_PROXIES="${IDENTITY_TRUSTED_PROXIES:-127.0.0.1,::1}"
  for svc in "${SERVICES[@]}"; do
    if running "$svc"; then say "$svc already running (pid $(cat "var/run/$svc.pid"))"; continue; fi
    say "starting $svc on 127.0.0.1:${PORTS[$svc]}"
    local drop=()  # each service gets its own secret only (identity alone the signing key)
    for secret in "${SECRETS[@]}"; do
      [[ $secret == "${SECRET_OF[$svc]:-}" ]] || drop+=(-u "$secret")
    done
    nohup env "${drop[@]}" "$PY" -m "$svc" serve >>"var/log/$svc.log" 2>&1 &
    echo $! >"var/run/$svc.pid"
  done
  for svc in "${SERVICES[@]}"; do
    local port=${PORTS[$svc]} deadline=$((SECONDS + 60))
    until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
      if ! running "$svc" || ((SECONDS > deadline)); then
        say "$svc did not become ready; last lines of var/log/$svc.log:"
        tail -n 30 "var/log/$svc.log" >&2 || true
        exit 1
      fi
      sleep 0.3
    done
    say "$svc ready: http://127.0.0.1:$port/readyz"
  done
}

stop() {
  for svc in "${SERVICES[@]}"; do
    if running "$svc"; then
      local pid; pid=$(cat "var/run/$svc.pid")
      say "stopping $svc (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "var/run/$svc.pid"
  done
}

status() {
  for svc in "${SERVICES[@]}"; do
    if running "$svc"; then
      state=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORTS[$svc]}/readyz" || true)
      say "$svc: running (pid $(cat "var/run/$svc.pid")), /readyz $state"
    else
      say "$svc: stopped"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
