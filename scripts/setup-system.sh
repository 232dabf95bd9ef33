#!/usr/bin/env bash
# Installs the Debian packages Tollgate builds against (and, with --test, what its tests use).
# Idempotent: only calls apt-get when something is missing.
set -euo pipefail
packages=(libcurl4-openssl-dev libhiredis-dev libpcre2-dev libssl-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(redis-server python3-venv openssl)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(nginx wrk redis-server)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
