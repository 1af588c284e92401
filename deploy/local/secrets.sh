#!/usr/bin/env bash
# The local stack's secrets: generated on first use, kept under var/secrets/ (var/ is
# git-ignored; the directory is 0700, every file 0600), never a published placeholder.
#   deploy/local/secrets.sh ensure   create the missing ones (the others are kept)
#   deploy/local/secrets.sh env      ensure, then print the `export` lines services.sh runs
# SECRETS_DIR (default var/secrets) and PY (default .venv/bin/python) may be overridden.
#
#   identity-signing-keys.pem  IDENTITY_SIGNING_KEYS  Ed25519 key that signs the access tokens
#                                                     (only identity gets it; the others read
#                                                     its public key from identity's JWKS)
#   portal-cookie-secret       PORTAL_COOKIE_SECRET   seals the portal's session cookie
#   document-signing-key       DOCUMENT_SIGNING_KEY   HMAC of the 結果通知書 verification codes
#                                                     (keep it: notices signed under another key
#                                                     no longer verify)
# To rotate a secret, delete its file and restart (`make stop && make run`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECRETS_DIR="${SECRETS_DIR:-$ROOT/var/secrets}"
PY="${PY:-$ROOT/.venv/bin/python}"
umask 077

random_secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))'; }

write_once() {  # write_once <file> <command…>: create <file> from the command's output
  local file="$SECRETS_DIR/$1"; shift
  [[ -s $file ]] && return 0
  "$@" >"$file.tmp"
  [[ -s $file.tmp ]] || { echo "[secrets] could not generate $file" >&2; rm -f "$file.tmp"; exit 1; }
  mv "$file.tmp" "$file"
  echo "[secrets] generated $file" >&2
}

ensure() {
  mkdir -p "$SECRETS_DIR"
  chmod 700 "$SECRETS_DIR"
  write_once identity-signing-keys.pem "$PY" -m identity generate-signing-key
  write_once portal-cookie-secret random_secret
  write_once document-signing-key random_secret
  chmod 600 "$SECRETS_DIR"/*
}

quoted() {  # the file's content in single quotes (a PEM key spans lines), for `eval`
  local value
  value="$(cat "$SECRETS_DIR/$1")"
  printf "'%s'" "${value//\'/\'\\\'\'}"
}

case "${1:-ensure}" in
  ensure) ensure ;;
  env)
    ensure
    echo "export IDENTITY_SIGNING_KEYS=$(quoted identity-signing-keys.pem)"
    echo "export PORTAL_COOKIE_SECRET=$(quoted portal-cookie-secret)"
    echo "export DOCUMENT_SIGNING_KEY=$(quoted document-signing-key)"
    ;;
  *) echo "usage: $0 ensure|env" >&2; exit 2 ;;
esac
