#!/bin/sh
# The nginx image's entrypoint: a self-signed certificate for this container (a fresh key each
# start, CN and subjectAltName the pod's host name and IP address), then nginx in the foreground.
# Arguments are passed to nginx (for example -t).
set -eu
dir=/run/nginx-tls
mkdir -p "$dir"
name="$(hostname)"
san="DNS:$name"
ip="$(hostname -i 2>/dev/null | cut -d' ' -f1 || true)"
case "$ip" in
  *.*.*.*) san="$san,IP:$ip" ;;
esac
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" -subj "/CN=$name" -addext "subjectAltName=$san" 2>/dev/null
exec nginx "$@"
