# shellcheck shell=bash
# BGP of the local cluster (docs/bgp.md), sourced by e2e/local-cluster: a router namespace and one
# BIRD per node, from the templates in e2e/local-cluster-bgp/.
#
#   sp-router  eth0 10.240.0.250/24 on br0, ip_forward on, no ICMP redirects, no default route;
#              BIRD AS 64512, one session per node, ECMP routes of the BGP pool into its kernel
#   sp-node-K  BIRD AS 64513 (socket $STATE/bgp/sp-node-K.ctl), announcing the /32s the agent
#              writes to $STATE/bgp/sp-node-K.routes (--bgp-socket, --bgp-routes-file)
#   sp-client  198.51.100.0/24 via 10.240.0.250 (the router), redirects ignored
#
# On whenever bird and birdc are installed (Debian's bird2; e2e/bin/debian-packages test), unless
# SP_BGP=0. Traffic and sessions stay on the bridge: the router has no route out of 10.240.0.0/24.
#
#   e2e/local-cluster bgp stop|start|kill sp-node-N   # kill: SIGKILL of the node's BIRD

BGP_POOL=198.51.100.0/24
ROUTER_NS=sp-router
ROUTER_IP=10.240.0.250
ROUTER_AS=64512
NODE_AS=64513
BGP_DIR="$STATE/bgp"
BGP_TEMPLATES="$HERE/local-cluster-bgp"

bgp_on() {
  [[ "${SP_BGP:-1}" != 0 ]] && command -v bird >/dev/null && command -v birdc >/dev/null
}

bgp_socket() { echo "$BGP_DIR/$1.ctl"; }      # sp-node-K | router
bgp_routes() { echo "$BGP_DIR/$1.routes"; }   # sp-node-K

bgp_check_paths() {
  [[ "$BGP_DIR" != *[[:space:]]* ]] || die "BGP needs a state directory without spaces, got $STATE (or SP_BGP=0)"
  # a unix socket's path holds at most 107 bytes
  ((${#BGP_DIR} <= 80)) || die "BGP needs a state directory of at most 76 characters, got $STATE (or SP_BGP=0)"
}

# the router's configuration with one session per node 1..N
bgp_router_conf() { # N
  local n="$1" k neighbors=""
  for ((k = 1; k <= n; k++)); do
    neighbors+="protocol bgp node$k from nodes { neighbor $(node_ip "$k") as $NODE_AS; }"$'\n'
  done
  sed -e "s|@ROUTER_IP@|$ROUTER_IP|g; s|@ROUTER_AS@|$ROUTER_AS|g" "$BGP_TEMPLATES/router.conf" \
    | while IFS= read -r line; do
        if [[ "$line" == "@NEIGHBORS@" ]]; then printf '%s' "$neighbors"; else printf '%s\n' "$line"; fi
      done
}

bgp_node_conf() { # K
  sed -e "s|@NODE_IP@|$(node_ip "$1")|g; s|@NODE_AS@|$NODE_AS|g; s|@ROUTER_IP@|$ROUTER_IP|g" \
    -e "s|@ROUTER_AS@|$ROUTER_AS|g; s|@ROUTES_FILE@|$(bgp_routes "sp-node-$1")|g" "$BGP_TEMPLATES/node.conf"
}

bgp_start_bird() { # NAME(router|sp-node-K) NETNS
  local name="$1" ns="$2"
  pid_alive "$STATE/run/bird-$name.pid" && return 0
  rm -f "$(bgp_socket "$name")"
  start_proc "bird-$name" "$STATE/logs/bird-$name.log" \
    ip netns exec "$ns" bird -f -c "$BGP_DIR/$name.conf" -s "$(bgp_socket "$name")" -P "$BGP_DIR/$name.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ "$(birdc -s "$(bgp_socket "$name")" show status 2>/dev/null || true)" == *"Daemon is up and running"* ]] && return 0
    pid_alive "$STATE/run/bird-$name.pid" || break
    sleep 0.1
  done
  die "BIRD of $name did not start (log: $STATE/logs/bird-$name.log)"
}

ensure_router_ns() {
  ns_exists "$ROUTER_NS" && return 0
  log "creating namespace $ROUTER_NS ($ROUTER_IP, BGP AS $ROUTER_AS; routes $BGP_POOL from the nodes)"
  ip netns add "$ROUTER_NS"
  ns_sysctl "$ROUTER_NS" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  attach_to_bridge "$ROUTER_NS" "$ROUTER_IP" router
  # it forwards from the bridge back onto the bridge: no redirects, or the client would learn to
  # skip it and keep sending to a node that is gone
  ns_sysctl "$ROUTER_NS" net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
}

# up: the router, every node's BIRD, the client's route; after the node and client namespaces
bgp_up() { # N
  bgp_on || { log "no bird/birdc (Debian's bird2), or SP_BGP=0: no BGP"; return 0; }
  bgp_check_paths
  local n="$1" k
  mkdir -p "$BGP_DIR"
  ensure_router_ns
  bgp_router_conf "$n" > "$BGP_DIR/router.conf.new"
  mv "$BGP_DIR/router.conf.new" "$BGP_DIR/router.conf"
  if pid_alive "$STATE/run/bird-router.pid"; then
    local out; out="$(birdc -s "$(bgp_socket router)" configure 2>&1)" || true
    [[ "$out" == *Reconfigur* ]] || die "the router's BIRD refused $BGP_DIR/router.conf: $out"
  else
    log "starting BIRD in $ROUTER_NS (sessions to $n nodes)"
    bgp_start_bird router "$ROUTER_NS"
  fi
  for ((k = 1; k <= n; k++)); do bgp_ensure_node "$k"; done
  in_ns "$CLIENT_NS" ip route replace "$BGP_POOL" via "$ROUTER_IP" dev eth0
  ns_sysctl "$CLIENT_NS" net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0
}

bgp_ensure_node() { # K
  local k="$1" name="sp-node-$1"
  # the node's own traffic to a BGP address needs a route before nat OUTPUT rewrites it (as for
  # the L2 pool); its BIRD installs nothing into the node's kernel
  in_ns "$name" ip route replace "$BGP_POOL" dev eth0
  [[ -f "$(bgp_routes "$name")" ]] || : > "$(bgp_routes "$name")"
  bgp_node_conf "$k" > "$BGP_DIR/$name.conf"
  pid_alive "$STATE/run/bird-$name.pid" && return 0
  log "starting BIRD in $name (AS $NODE_AS, routes from $(bgp_routes "$name"))"
  bgp_start_bird "$name" "$name"
}

# the agent's flags for BGP, nothing when BGP is off
bgp_agent_args() { # K
  bgp_on && [[ -d "$BGP_DIR" ]] || return 0
  echo "--bgp-socket=$(bgp_socket "sp-node-$1") --bgp-routes-file=$(bgp_routes "sp-node-$1")"
}

cmd_bgp() {
  local sub="${1:-}" node="${2:-}" k
  k="$(node_index "$node")"
  ((k >= 1 && k <= $(node_count))) || die "no node $node (cluster has $(node_count))"
  bgp_on || die "BGP is off (no bird/birdc, or SP_BGP=0)"
  case "$sub" in
    stop) stop_proc "bird-$node" ;;
    kill)
      local file="$STATE/run/bird-$node.pid"
      pid_alive "$file" && kill -KILL "$(pid_of "$file")"
      rm -f "$file" ;;
    start) bgp_ensure_node "$k" ;;
    *) die "bgp stop|start|kill sp-node-N" ;;
  esac
}

# down: the BIRDs, then the router's namespace (the nodes' go with the others)
bgp_down() {
  local f
  for f in "$STATE"/run/bird-*.pid; do [[ -e "$f" ]] && stop_proc "$(basename "$f" .pid)" 5; done
  if ns_exists "$ROUTER_NS"; then
    kill_netns_pids "$ROUTER_NS"
    ip netns del "$ROUTER_NS" 2>/dev/null || true
  fi
  rm -rf "$BGP_DIR"
}
