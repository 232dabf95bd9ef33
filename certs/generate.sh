#!/usr/bin/env bash
# Writes a self-signed certificate for localhost and 127.0.0.1 into DIR (default: certs/),
# for trying TLS termination: tollgate serve --tls-cert DIR/server.crt --tls-key DIR/server.key
set -euo pipefail
DIR="${1:-$(dirname "$0")}"
mkdir -p "$DIR"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$DIR/server.key" -out "$DIR/server.crt" 2>/dev/null
chmod 600 "$DIR/server.key"
echo "wrote $DIR/server.crt and $DIR/server.key"
