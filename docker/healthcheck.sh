#!/bin/bash
# Container health check: GET /healthz with bash's /dev/tcp, so the image
# needs no curl. Follows CHATGATE_BIND and CHATGATE_HTTP_PORT.
host=${CHATGATE_BIND:-0.0.0.0}
host=${host#[}
host=${host%]}
case $host in
  0.0.0.0 | '' ) host=127.0.0.1 ;;
  :: ) host=::1 ;;
esac
port=${CHATGATE_HTTP_PORT:-8080}

# Builtins only: nothing is forked, so nothing is left for PID 1 to reap.
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS= read -r -t 2 status <&3 || { echo "no answer from $host:$port"; exit 1; }
status=${status%$'\r'}
echo "$status"
case $status in
  "HTTP/1."?" 200"*) exit 0 ;;
esac
exit 1
