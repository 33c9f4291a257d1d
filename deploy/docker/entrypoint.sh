#!/usr/bin/env bash
# Entrypoint of the quorum53 image.
#
#   node    (default) q53d (announcing the anycast address: --anycast) + BIRD
#   router  BIRD only: BGP from every node, ECMP into the kernel, forwarding
#   client  a route to the anycast address via the router, then idle
#   anything else is exec'd (e.g. `q53 --endpoint http://10.53.0.11:9053
#   --data /var/lib/quorum53 status` in node1, whose data dir holds the
#   cluster's administrator key)
#
# Node environment (defaults in brackets):
#   Q53_ID          Raft id [last octet of the address facing the router]
#   Q53_BOOTSTRAP   1: an empty data dir bootstraps a new cluster [0]
#   Q53_JOIN        comma list of member NNG APIs (host:port) to join through
#                   when the data dir is empty, first accepting one is used
#   Q53_ZONES       space list of ORIGIN=FILE seeded on bootstrap
#                   [example.com=/etc/quorum53/example.com.zone]
#   Q53_CHECK_NAME  the zone whose SOA q53d's announcer asks [first origin of
#                   Q53_ZONES]
#   Q53_ANYCAST     the anycast address [10.53.53.53]
#   Q53_ROUTER      the router's address on the node network [10.53.0.2]; the
#                   address facing it serves DNS, the HTTP API (:9053, q53
#                   and Route 53 clients, SigV4), the NNG API (:8053, node to
#                   node) and BGP
#   Q53_RAFT_NET    a separate network (a.b.c.d/len) for Raft traffic; the
#                   node's address on it carries Raft [Raft on the same address]
#   Q53_NODE_AS / Q53_ROUTER_AS                      [65053 / 65000]
#   Q53_CHECK_INTERVAL_MS   announcer period [500] (q53d --anycast-interval)
# The anycast /32 is on lo (and so exported by BIRD) while q53d's responder
# answers and the node is in contact with a quorum, as q53d measures it
# (node/anycast/, `q53 status` QuorumContact); q53d removes it otherwise
# and on SIGTERM, before it stops.
#   Q53_BFD_INTERVAL_MS / Q53_BFD_MULTIPLIER / Q53_HOLD_TIME  [100 / 5 / 3]
#   Q53D_ARGS       extra q53d arguments (e.g. --workers 1)
# Router: Q53_NODE_NET [10.53.0.0/24], Q53_ANYCAST, the AS numbers, BFD.
# Client: Q53_ANYCAST, Q53_ROUTER (the router on the client network).
set -euo pipefail

role=${1:-node}
ANYCAST=${Q53_ANYCAST:-10.53.53.53}
ROUTER=${Q53_ROUTER:-10.53.0.2}
NODE_AS=${Q53_NODE_AS:-65053}
ROUTER_AS=${Q53_ROUTER_AS:-65000}
BFD_INTERVAL=${Q53_BFD_INTERVAL_MS:-100}
BFD_MULTIPLIER=${Q53_BFD_MULTIPLIER:-5}
HOLD_TIME=${Q53_HOLD_TIME:-3}
DATA=/var/lib/quorum53
RUN=/run/quorum53
mkdir -p "$RUN" /run/bird

log() { echo "$(date -u +%FT%T.%3NZ) q53-entrypoint[$role]: $*" >&2; }

# The address and prefix of the interface that reaches $1.
addr_towards() {
  local dev src
  dev=$(ip -4 route get "$1" | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -1)
  src=$(ip -4 route get "$1" | sed -n 's/.* src \([^ ]*\).*/\1/p' | head -1)
  [ -n "$dev" ] && [ -n "$src" ] || return 1
  ip -4 -o addr show dev "$dev" | awk -v s="$src" '$4 ~ "^"s"/" {print $4; exit}'
}

# The network of an a.b.c.d/len address.
network_of() {
  local ip=${1%/*} len=${1#*/} a b c d n
  IFS=. read -r a b c d <<<"$ip"
  n=$(( (a << 24 | b << 16 | c << 8 | d) & (0xffffffff << (32 - len)) & 0xffffffff ))
  echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))/$len"
}

render_bird() { # template out, then KEY=VALUE pairs
  local tpl=$1 out=$2 kv
  shift 2
  cp "$tpl" "$out"
  for kv in "$@"; do
    sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
  done
  if grep -q '@[A-Z_]*@' "$out"; then
    log "unfilled placeholder in $out: $(grep -o '@[A-Z_]*@' "$out" | sort -u | tr '\n' ' ')"
    exit 1
  fi
  bird -p -c "$out"
}

start_bird() {
  bird -f -c "$1" -s /run/bird/bird.ctl &
  echo $! >"$RUN/bird.pid"
}

stop_children() {
  local p
  for p in "$@"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
  done
}

# --- router -----------------------------------------------------------------
if [ "$role" = router ]; then
  NODE_NET=${Q53_NODE_NET:-10.53.0.0/24}
  me=$(addr_towards "${NODE_NET%/*}" || true)
  [ -n "$me" ] || { log "no interface on $NODE_NET"; exit 1; }
  render_bird /etc/quorum53/bird/router.conf "$RUN/bird.conf" \
    ROUTER_ID="${me%/*}" NODE_NET="$NODE_NET" ANYCAST="$ANYCAST" NODE_AS="$NODE_AS" \
    ROUTER_AS="$ROUTER_AS" BFD_INTERVAL="$BFD_INTERVAL" BFD_MULTIPLIER="$BFD_MULTIPLIER" \
    HOLD_TIME="$HOLD_TIME"
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || log "warning: net.ipv4.ip_forward is 0 (set it with sysctls)"
  log "BGP from $NODE_NET (AS $NODE_AS) as ${me%/*} (AS $ROUTER_AS), ECMP for $ANYCAST/32"
  start_bird "$RUN/bird.conf"
  bird_pid=$(cat "$RUN/bird.pid")
  trap 'stop_children $bird_pid' TERM INT
  wait "$bird_pid" || true
  exit 0
fi

# --- client -----------------------------------------------------------------
if [ "$role" = client ]; then
  ip route replace "$ANYCAST/32" via "$ROUTER"
  log "anycast $ANYCAST via router $ROUTER; try: kdig @$ANYCAST www.example.com"
  trap 'exit 0' TERM INT
  while :; do sleep 3600 & wait $! || true; done
fi

if [ "$role" != node ]; then
  exec "$@"
fi

# --- node -------------------------------------------------------------------
me=$(addr_towards "$ROUTER" || true)
[ -n "$me" ] || { log "no interface towards the router $ROUTER"; exit 1; }
MYIP=${me%/*}
ID=${Q53_ID:-${MYIP##*.}}
ZONES=${Q53_ZONES:-example.com=/etc/quorum53/example.com.zone}
first_zone=${ZONES%% *}
CHECK_NAME=${Q53_CHECK_NAME:-${first_zone%%=*}}
API="$MYIP:8053"
# The HTTP API (the q53 CLI, Route 53 clients): plain HTTP on the private
# container network (every request is SigV4-signed; for HTTPS give
# --http-tls-cert/--http-tls-key in Q53D_ARGS).
HTTP="$MYIP:9053"
RAFT_IP=$MYIP
if [ -n "${Q53_RAFT_NET:-}" ]; then
  RAFT_IP=$(ip -4 -o addr show | awk '{print $4}' | while read -r a; do
              [ "$(network_of "$a")" = "$Q53_RAFT_NET" ] && echo "${a%/*}" && break; done || true)
  [ -n "$RAFT_IP" ] || { log "no address on the Raft network $Q53_RAFT_NET"; exit 1; }
fi

args=(--data-dir "$DATA" --id "$ID" --name "$(hostname)"
      --raft "$RAFT_IP:7053" --api "$API" --http "$HTTP" --http-insecure
      --peer-insecure
      --dns "127.0.0.1:53" --dns "$MYIP:53" --dns "$ANYCAST:53"
      --anycast "$ANYCAST/32@lo" --anycast-check "$CHECK_NAME"
      --anycast-interval "${Q53_CHECK_INTERVAL_MS:-500}"
      --anycast-state "$RUN/anycast")
if [ -z "$(ls -A "$DATA" 2>/dev/null)" ]; then
  if [ "${Q53_BOOTSTRAP:-0}" = 1 ]; then
    log "empty data dir: bootstrapping a new cluster as node $ID, seeding: $ZONES"
    for z in $ZONES; do args+=(--zone "$z"); done
  elif [ -n "${Q53_JOIN:-}" ]; then
    join=""
    for _ in $(seq 120); do   # bounded: up to ~2 minutes for a member to answer
      for m in ${Q53_JOIN//,/ }; do
        h=${m%:*} p=${m##*:}
        ip=$(getent ahostsv4 "$h" | awk 'NR==1 {print $1}') || true
        [ -n "$ip" ] || continue
        # the member's NNG API accepts connections (q53d --join retries)
        if timeout 2 bash -c "exec 3<>/dev/tcp/$ip/$p" 2>/dev/null; then join="$ip:$p"; break 2; fi
      done
      sleep 1
    done
    [ -n "$join" ] || { log "no member of $Q53_JOIN answers; cannot join"; exit 1; }
    log "empty data dir: joining as node $ID through $join"
    args+=(--join "$join")
  else
    log "empty data dir and neither Q53_BOOTSTRAP=1 nor Q53_JOIN: nothing to do"
    exit 1
  fi
else
  log "restarting node $ID from $DATA"
fi
# shellcheck disable=SC2206
args+=(${Q53D_ARGS:-})

# q53d removes a stale anycast address (container restarted) at start.

render_bird /etc/quorum53/bird/node.conf "$RUN/bird.conf" \
  ROUTER_ID="$MYIP" LOCAL_IP="$MYIP" LOCAL_NET="$(network_of "$me")" ROUTER_IP="$ROUTER" \
  ANYCAST="$ANYCAST" NODE_AS="$NODE_AS" ROUTER_AS="$ROUTER_AS" \
  BFD_INTERVAL="$BFD_INTERVAL" BFD_MULTIPLIER="$BFD_MULTIPLIER" HOLD_TIME="$HOLD_TIME"
start_bird "$RUN/bird.conf"
bird_pid=$(cat "$RUN/bird.pid")

log "q53d ${args[*]}"
q53d "${args[@]}" &
q53d_pid=$!

shutdown() {
  # q53d withdraws first and lets the router move the traffic (0.5 s,
  # --anycast-drain), then stops: a graceful stop loses no query.
  log "stopping q53d (it withdraws $ANYCAST/32 first)"
  stop_children "$q53d_pid"
  wait "$q53d_pid" 2>/dev/null || true
  stop_children "$bird_pid"
  wait "$bird_pid" 2>/dev/null || true
  exit 0
}
trap shutdown TERM INT

set +e
wait "$q53d_pid"
rc=$?
set -e
log "q53d exited ($rc)"
ip addr del "$ANYCAST/32" dev lo 2>/dev/null || true # after a crash
stop_children "$bird_pid"
exit "$rc"
