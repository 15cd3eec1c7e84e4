#!/usr/bin/env bash
# Generates THROW-AWAY broker secrets for trying docker-compose.yml on a workstation: a self-signed CA, a server
# certificate for "mosquitto"/"localhost", a password file with one device and the gateway, and the ACL from
# acl.example. Output: infra/mosquitto/secrets/ (git-ignored). Never use these in a plant: issue real
# certificates and passwords from your PKI / secret store and mount them at /mosquitto/secrets instead.
#   infra/mosquitto/dev-secrets.sh [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${PDM_MQTT_SECRETS_DIR:-$HERE/secrets}
if [[ -f $OUT/server.crt && ${1:-} != --force ]]; then
    echo "dev-secrets: $OUT already holds secrets (use --force to regenerate)" >&2
    exit 0
fi
command -v openssl >/dev/null || { echo "dev-secrets: openssl is required" >&2; exit 1; }
command -v mosquitto_passwd >/dev/null || { echo "dev-secrets: mosquitto_passwd is required (Debian package mosquitto)" >&2; exit 1; }

mkdir -p "$OUT"
printf '*\n!.gitignore\n' >"$OUT/.gitignore"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj '/CN=PdM dev CA' \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj '/CN=mosquitto' \
    -keyout "$OUT/server.key" -out "$OUT/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:mosquitto,DNS:localhost,IP:127.0.0.1\n' >"$OUT/server.ext"
openssl x509 -req -in "$OUT/server.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
    -days 365 -extfile "$OUT/server.ext" -out "$OUT/server.crt" 2>/dev/null
rm -f "$OUT/server.csr" "$OUT/server.ext" "$OUT/ca.srl"

# Dev passwords are the user names followed by "-dev": obviously not secret.
: >"$OUT/passwords"
for user in pump-17 gateway-plant-a simulator healthcheck; do
    mosquitto_passwd -b "$OUT/passwords" "$user" "$user-dev"
done
cp "$HERE/acl.example" "$OUT/acl"
# The broker runs as uid 1883 in eclipse-mosquitto images; the key must be readable by it.
chmod 644 "$OUT"/*.crt "$OUT/acl" "$OUT/passwords" "$OUT/server.key"
chmod 600 "$OUT/ca.key"
echo "dev-secrets: wrote $OUT (dev only)" >&2
