#!/usr/bin/env bash
# A PRIVATE Docker engine for BuildIt's tests and CI.
#
#   bash scripts/docker-engine.sh up      # install if missing, start, build local/busybox:latest
#   bash scripts/docker-engine.sh status  # exit 0 and print DOCKER_HOST when the engine answers
#   bash scripts/docker-engine.sh down    # stop the dockerd this script started (by its pidfile)
#
# The last stdout line of `up` and `status` is `DOCKER_HOST=unix://...`, so callers can do
#   export "$(bash scripts/docker-engine.sh up | tail -n1)"
#
# Why it looks like this:
# - The host's network is never touched: no bridge, no iptables, no forwarding, no masquerading.
#   Containers can only use NetworkMode `none` or `host`.
# - Everything (socket, data root, exec root, pidfile, log) lives under $BUILDIT_DOCKER_DIR, so it
#   never collides with a system engine, and the system's default socket is never used: every docker
#   CLI call below passes `-H` explicitly.
# - No registry is reachable here: the only image, local/busybox:latest, is made by `docker import`
#   of a busybox-static rootfs, and nothing is ever pulled (`--pull never`).
set -euo pipefail

DIR=${BUILDIT_DOCKER_DIR:-/tmp/buildit-docker}
SOCK="$DIR/docker.sock"
HOST="unix://$SOCK"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
IMAGE=local/busybox:latest

log() { echo "docker-engine: $*" >&2; }

# The Debian docker.io client lives in /usr/bin; prefer it over any other `docker` on PATH.
docker_cli() {
  local bin=/usr/bin/docker
  [ -x "$bin" ] || bin=$(command -v docker)
  "$bin" -H "$HOST" "$@"
}

engine_answers() { [ -S "$SOCK" ] && docker_cli version --format '{{.Server.Version}}' >/dev/null 2>&1; }

pid_alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

install_packages() {
  if command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ] && [ -x /bin/busybox ]; then return; fi
  if [ "$(id -u)" != 0 ]; then log "docker.io and busybox-static are missing and we are not root: install them"; exit 1; fi
  # Installing docker.io must not start the system's dockerd (which would set up docker0 + iptables).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  log "installing docker.io busybox-static (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io busybox-static >/dev/null
}

start_daemon() {
  local driver pid
  mkdir -p "$DIR"
  for driver in overlay2 vfs; do
    rm -f "$SOCK"
    # setsid: the daemon survives this shell and is not in the caller's process group.
    setsid "$(command -v dockerd)" \
      --host="$HOST" --data-root="$DIR/data" --exec-root="$DIR/exec" --pidfile="$PIDFILE" \
      --storage-driver="$driver" \
      --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
      >"$LOG" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 150); do
      engine_answers && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if engine_answers; then
      echo "$pid" >"$PIDFILE"
      log "dockerd pid $pid, storage driver $driver, socket $SOCK"
      return
    fi
    log "dockerd with storage driver $driver did not come up:"
    tail -n 5 "$LOG" >&2 || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  log "dockerd failed with overlay2 and vfs; see $LOG"
  exit 1
}

ensure_image() {
  if docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then return; fi
  local root
  root=$(mktemp -d "$DIR/rootfs.XXXXXX")
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,root,proc,sys,dev,workspace}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" --numeric-owner -c . | docker_cli import \
    --change 'CMD ["/bin/sh"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE" >/dev/null
  rm -rf "$root"
  log "built $IMAGE from busybox-static"
}

cmd_up() {
  if engine_answers; then
    ensure_image
    echo "DOCKER_HOST=$HOST"
    return
  fi
  install_packages
  if pid_alive; then
    log "dockerd pid $(cat "$PIDFILE") is running but does not answer on $SOCK; run '$0 down' first"
    exit 1
  fi
  start_daemon
  ensure_image
  docker_cli run --rm --pull never --network none "$IMAGE" true
  echo "DOCKER_HOST=$HOST"
}

cmd_down() {
  if ! pid_alive; then
    log "no dockerd started by this script is running (pidfile $PIDFILE)"
    rm -f "$PIDFILE"
    return
  fi
  local pid
  pid=$(cat "$PIDFILE")
  # Only the PID we recorded; dockerd stops its containers and containerd itself on SIGTERM.
  kill -TERM "$pid"
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd $pid did not stop in 15 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$SOCK"
  log "dockerd $pid stopped"
}

cmd_status() {
  if engine_answers; then
    log "up: server $(docker_cli version --format '{{.Server.Version}}'), pid $(cat "$PIDFILE" 2>/dev/null || echo '?')"
    echo "DOCKER_HOST=$HOST"
  else
    log "down (no engine answers on $SOCK)"
    exit 1
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
