#!/usr/bin/env bash
# Build the chatgate image from docker/Dockerfile with podman and check that
# it runs as the SPEC says: health check, ws and tcp chat, non-root, clean stop,
# and the two-node cluster of docker/compose.cluster.yaml (SPEC 11): a
# message crosses nodes in the containers.
#
#   docker/test.sh            (as root; installs podman, runc, debootstrap if missing)
#
# No Docker engine or registry is needed: the Debian bookworm base image is
# made locally with debootstrap + podman import when it is missing, and passed
# to the Dockerfile as BASE_IMAGE. Settings (environment):
#   CHATGATE_BASE_IMAGE   local base image name   (localhost/chatgate-debian:bookworm-slim)
#   CHATGATE_IMAGE        image to build and test (localhost/chatgate:test)
#   CHATGATE_DEBIAN_MIRROR  Debian archive for debootstrap (default: the one
#                         this machine's apt sources use; else deb.debian.org)
#   CHATGATE_BUILD_JOBS   compile jobs in the build stage (2)
#   CHATGATE_REBUILD_BASE=1   remake the base image even if it exists
#   CHATGATE_REDIS_IMAGE  Redis image for the cluster check, made from the
#                         base image with Debian's redis-server (localhost/chatgate-redis:test)
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${CHATGATE_BASE_IMAGE:-localhost/chatgate-debian:bookworm-slim}
IMAGE=${CHATGATE_IMAGE:-localhost/chatgate:test}
REDIS_IMAGE=${CHATGATE_REDIS_IMAGE:-localhost/chatgate-redis:test}
# The Debian archive this machine itself uses (deb822 .sources files first,
# then sources.list): the one mirror known to be reachable from here.
# $1: "main" for the archive, "security" for debian-security.
host_mirror() {
  local want=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    # One stanza per blank-line-separated block: print its first URI when
    # its Suites have bookworm (main) or bookworm-security (security).
    awk -v want="$want" '
      function flush() {
        if (uri != "" && types ~ /(^| )deb( |$)/ &&
            ((want == "security" && suites ~ /-security/) ||
             (want == "main" && suites ~ /(^| )bookworm( |$)/))) { print uri; found = 1; exit }
        uri = ""; suites = ""; types = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^URIs:/   { uri = $2 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^Types:/  { sub(/^Types:[ \t]*/, ""); types = $0 }
      END { if (!found) flush() }' "$f" | head -1
  done | head -1 | grep . && return 0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    if [ "$want" = security ]; then
      awk '$1 == "deb" && $0 ~ /-security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' "$f"
    else
      awk '$1 == "deb" && $0 ~ / bookworm( |$)/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' "$f"
    fi
  done | head -1 | grep .
}

MIRROR=${CHATGATE_DEBIAN_MIRROR:-$(host_mirror main || echo http://deb.debian.org/debian)}
MIRROR=${MIRROR%/}
SECURITY_MIRROR=$(host_mirror security || echo "${MIRROR%/debian}/debian-security")
[ -n "${CHATGATE_DEBIAN_MIRROR:-}" ] && SECURITY_MIRROR="${MIRROR%/debian}/debian-security"
JOBS=${CHATGATE_BUILD_JOBS:-2}
PY=/usr/bin/python3
NAME=chatgate-test-$$
HOST=127.0.0.1

t_start=$(date +%s)
t_phase=$t_start
phase() { # name the next step, and say how long the one before took
  local now; now=$(date +%s)
  echo "== $*   (previous step: $((now - t_phase))s)"
  t_phase=$now
}
die() { echo "FAIL: $*" >&2; exit 1; }
# Without systemd podman cannot schedule health checks by itself and says so
# on every run/stop/rm; the script runs them with `podman healthcheck run`.
pm() { podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

ensure_tools() {
  local need=()
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v podman-compose >/dev/null || need+=(podman-compose)
  "$PY" -c 'import websockets' 2>/dev/null || need+=(python3-websockets)
  [ ${#need[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing ${need[*]}: install them or run as root"
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# podman settings that work on a host without systemd or Docker: runc,
# cgroupfs, file events, and ulimits that runc may set without
# CAP_SYS_RESOURCE: no higher than this shell's, and nproc no higher than
# 32768, to which podman 4.3 lowers its own limit at start.
configure_podman() {
  local dir=${XDG_RUNTIME_DIR:-/tmp}/chatgate-podman
  local nofile nproc
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  mkdir -p "$dir"
  cat > "$dir/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  export CONTAINERS_CONF=$dir/containers.conf
}

# A minimal Debian bookworm root, trimmed and configured like debian:bookworm-slim.
build_base_image() {
  local root; root=$(mktemp -d /var/tmp/chatgate-rootfs.XXXXXX)
  rootfs_dir=$root
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" > "$root.log" 2>&1 \
    || { tail -20 "$root.log"; die "debootstrap failed"; }
  rm -f "$root.log"
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat > "$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/lib/apt/lists/* \
         "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log
  tar --numeric-owner -C "$root" -c . \
    | podman import --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$BASE_IMAGE" > "$root.import.log" 2>&1 \
    || { cat "$root.import.log"; die "podman import failed"; }
  rm -f "$root.import.log"
  rm -rf "$root"
  rootfs_dir=
}

# $1 numbers (3 by default) below the ephemeral range, each free for both TCP and UDP.
pick_ports() {
  "$PY" - "${1:-3}" <<'EOF'
import random, socket, sys
found = []
while len(found) < int(sys.argv[1]):
    port = random.randrange(20000, 30000)
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", port))
            s.close()
    except OSError:
        continue
    if port not in found:
        found.append(port)
print(*found)
EOF
}

cleanup() {
  pm rm -f -t 0 "$NAME" "$NAME-defaults" >/dev/null 2>&1 || true
  if [ -n "${cluster_file:-}" ]; then
    podman-compose -p "$NAME-cluster" -f "$cluster_file" down -v >/dev/null 2>&1 || true
    rm -f "$cluster_file"
  fi
  if [ -n "${redis_ctx:-}" ]; then rm -rf "$redis_ctx"; fi
  [ -n "${watcher:-}" ] && kill "$watcher" 2>/dev/null || true
  rm -f "${watch_out:-}"
  [ -n "${rootfs_dir:-}" ] && rm -rf "$rootfs_dir" || true
}
trap cleanup EXIT

phase "tools"
ensure_tools
configure_podman

if [ "${CHATGATE_REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$BASE_IMAGE"; then
  phase "base image $BASE_IMAGE (debootstrap bookworm from $MIRROR)"
  build_base_image
fi

phase "image $IMAGE from docker/Dockerfile"
podman build --format docker --network host --layers \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BUILD_JOBS="$JOBS" \
  -f docker/Dockerfile -t "$IMAGE" . > /tmp/chatgate-image-build.log 2>&1 \
  || { tail -40 /tmp/chatgate-image-build.log; die "podman build failed (log: /tmp/chatgate-image-build.log)"; }
podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "image size: %.1f MB\n", $1/1e6}'

phase "image config"
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
ports=$(podman image inspect --format '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMAGE")
health=$(podman image inspect --format '{{json .HealthCheck}}' "$IMAGE")
echo "user: $user; exposed: $ports"
echo "healthcheck: $health"
case $user in ''|0|root|0:*|root:*) die "image runs as root" ;; esac
for p in 8080/tcp 7000/tcp 7000/udp 7007/tcp 7007/udp; do
  [[ " $ports " == *" $p "* ]] || die "port $p not exposed"
done
[[ $health == *chatgate-healthcheck* ]] || die "no HEALTHCHECK in the image"

phase "run"
read -r http_port chat_port echo_port < <(pick_ports)
echo "ports: http $http_port, chat $chat_port, echo $echo_port on $HOST"
pm run -d --name "$NAME" --network host \
  -e CHATGATE_BIND=$HOST -e CHATGATE_HTTP_PORT="$http_port" \
  -e CHATGATE_TCP_PORT="$chat_port" -e CHATGATE_UDP_PORT="$chat_port" \
  -e CHATGATE_ECHO_PORT="$echo_port" \
  "$IMAGE" >/dev/null
healthy=0
for _ in $(seq 1 50); do
  if podman healthcheck run "$NAME" >/dev/null 2>&1; then healthy=1; break; fi
  [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" = true ] || break
  sleep 0.2
done
if [ $healthy != 1 ]; then podman logs "$NAME" | tail -20; die "health check never passed"; fi
echo "health check: $(podman inspect --format '{{.State.Health.Status}}' "$NAME" 2>/dev/null || echo passed)"

phase "non-root"
pid=$(podman inspect --format '{{.State.Pid}}' "$NAME")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
comm=$(cat "/proc/$pid/comm")
echo "container PID 1 is $comm, uid $uid"
[ "$uid" != 0 ] || die "the gateway runs as root"
[ "$comm" = chatgate ] || die "PID 1 is $comm, not chatgate"

phase "chat through the container"
"$PY" docker/chat_check.py chat "$HOST" "$http_port" "$chat_port" "$chat_port" "$echo_port" \
  || { podman logs "$NAME" | tail -20; die "chat check failed"; }

phase "podman stop"
watch_out=$(mktemp)
"$PY" docker/chat_check.py shutdown "$HOST" "$http_port" "$chat_port" > "$watch_out" 2>&1 &
watcher=$!
for _ in $(seq 1 50); do grep -q '^ready' "$watch_out" && break; sleep 0.1; done
grep -q '^ready' "$watch_out" || { cat "$watch_out"; die "shutdown watcher did not connect"; }
t0=$(date +%s%N)
pm stop -t 10 "$NAME" >/dev/null
t1=$(date +%s%N)
stop_ms=$(( (t1 - t0) / 1000000 ))
code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
wait "$watcher" && watch_ok=1 || watch_ok=0
watcher=
grep -v '^ready' "$watch_out" || true
echo "podman stop took ${stop_ms} ms, exit code $code"
podman logs "$NAME" 2>&1 | tail -5
[ "$watch_ok" = 1 ] || die "clients were not told about the shutdown"
[ "$code" = 0 ] || die "exit code $code after SIGTERM"
[ "$stop_ms" -lt 2000 ] || die "stop took ${stop_ms} ms, the SPEC allows 2000"

phase "defaults, published ports (bridge network)"
# What a Docker user runs: no CHATGATE_* at all, ports published on loopback.
read -r pub_http pub_chat _ < <(pick_ports)
if pm run -d --name "$NAME-defaults" -p "$HOST:$pub_http:8080" -p "$HOST:$pub_chat:7000" \
     "$IMAGE" > /tmp/chatgate-bridge-run.log 2>&1; then
  healthy=0
  for _ in $(seq 1 50); do
    if podman healthcheck run "$NAME-defaults" >/dev/null 2>&1; then healthy=1; break; fi
    sleep 0.2
  done
  [ $healthy = 1 ] || { podman logs "$NAME-defaults" | tail; die "health check (defaults) never passed"; }
  "$PY" - "$HOST" "$pub_http" <<'EOF' || die "published port 8080 does not answer"
import sys, urllib.request
with urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/healthz", timeout=5) as r:
    assert r.status == 200, r.status
print(f"ok: /healthz through the published port {sys.argv[2]} -> 8080")
EOF
  pm stop -t 10 "$NAME-defaults" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME-defaults")
  [ "$code" = 0 ] || die "exit code $code after SIGTERM (defaults)"
  echo "ok: healthy with the defaults, stopped with exit code 0"
  bridge_ok=1
else
  # Host networking above is the test; bridge networking needs CNI and iptables.
  echo "skipped: bridge networking is not available here"; tail -3 /tmp/chatgate-bridge-run.log
fi

phase "cluster: docker/compose.cluster.yaml (Redis + two nodes)"
# The compose file as a user runs it, with three changes made on a copy next
# to it (so its relative build context still holds): the images are the one
# just built and a Redis made from the same Debian base (no registry here),
# and the host ports are free ones on $HOST instead of 8080/7000/... .
if [ "${bridge_ok:-0}" != 1 ]; then
  # Service names (redis://redis:6379) resolve on a compose network only.
  echo "skipped: compose networks need bridge networking, not available here"
else
  redis_ctx=$(mktemp -d)
  cat > "$redis_ctx/Containerfile" <<EOF
FROM $BASE_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data
WORKDIR /data
# Like the official image: without a config file Redis would refuse other
# containers (protected mode).
ENTRYPOINT ["sh", "-c", "exec \"\$@\" --protected-mode no --dir /data", "--"]
CMD ["redis-server"]
EOF
  podman build --format docker --network host -t "$REDIS_IMAGE" "$redis_ctx" > /tmp/chatgate-redis-build.log 2>&1 \
    || { tail -20 /tmp/chatgate-redis-build.log; die "redis image build failed"; }
  read -r a_http a_chat a_echo a_irc b_http b_chat b_echo b_irc < <(pick_ports 8)
  cluster_file=docker/.compose.cluster.test-$$.yaml
  sed -e "s|image: chatgate:latest|image: $IMAGE|" -e "s|image: redis:7|image: $REDIS_IMAGE|" \
      -e "s|\"8080:|\"$HOST:$a_http:|" -e "s|\"7000:|\"$HOST:$a_chat:|" \
      -e "s|\"7007:|\"$HOST:$a_echo:|" -e "s|\"6667:|\"$HOST:$a_irc:|" \
      -e "s|\"8081:|\"$HOST:$b_http:|" -e "s|\"7001:|\"$HOST:$b_chat:|" \
      -e "s|\"7008:|\"$HOST:$b_echo:|" -e "s|\"6668:|\"$HOST:$b_irc:|" \
      docker/compose.cluster.yaml > "$cluster_file"
  # Every published port of the original must have been moved.
  if grep -Eq '"(8080|8081|7000|7001|7007|7008|6667|6668):' "$cluster_file"; then
    die "compose.cluster.yaml has ports this script does not know: update the sed above"
  fi
  echo "node a: http $a_http, chat $a_chat; node b: http $b_http, chat $b_chat (on $HOST)"
  podman-compose -p "$NAME-cluster" -f "$cluster_file" up -d > /tmp/chatgate-cluster-up.log 2>&1 \
    || { tail -20 /tmp/chatgate-cluster-up.log; die "podman-compose up failed"; }
  "$PY" docker/chat_check.py cluster "$HOST" "$a_http" "$b_http" "$b_chat" \
    || { podman-compose -p "$NAME-cluster" -f "$cluster_file" logs 2>&1 | tail -40; die "cluster check failed"; }
  podman-compose -p "$NAME-cluster" -f "$cluster_file" down -v > /dev/null 2>&1 || true
  rm -f "$cluster_file"
  cluster_file=
  echo "ok: a message crossed the two nodes of docker/compose.cluster.yaml"
fi

phase "done"
echo "docker/test.sh: all checks passed in $(( $(date +%s) - t_start ))s"
