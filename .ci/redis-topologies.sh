# Redis topologies on loopback for the tests: source this file, then
#
#   url=$(start_redis_cluster DIR)    # 3 masters, no replicas
#   url=$(start_redis_sentinel DIR)   # 1 master, 1 replica, 3 sentinels
#   ...
#   stop_redis DIR
#
# Each start function prints the URL recipesd and REDIS_URL take
# (redis+cluster://... or redis://...?master_name=...), keeps its
# configuration, logs and pid files in DIR, and returns non-zero if the
# topology did not come up. stop_redis DIR kills exactly the processes it
# started there (by their pid files) and waits for them to exit.
#
# Ports are picked below the kernel's ephemeral range, where no outgoing
# connection can be holding them; a Cluster node also needs its bus port,
# picked the same way and given with --cluster-port.

_redis_free_port() {
  local start p
  start=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$start" -gt 11000 ] 2>/dev/null || start=32768
  while :; do
    p=$((10000 + RANDOM % (start - 10000)))
    (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
}

# _redis_wait PORT: waits up to 10 s for a PING answer on PORT.
_redis_wait() {
  local i
  for i in $(seq 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis on port $1 did not come up" >&2
  return 1
}

# _redis_start DIR NAME ARGS...: starts one redis-server (or, with
# --sentinel among ARGS, a sentinel) daemonized, with its pid file and log
# in DIR. The config file comes first because a sentinel needs one it can
# rewrite.
_redis_start() {
  local dir=$1 name=$2
  shift 2
  : >"$dir/$name.conf"
  redis-server "$dir/$name.conf" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/$name.pid" --logfile "$dir/$name.log" \
    --dir "$dir" "$@"
}

# start_redis_cluster DIR: three masters, slots split evenly, no replicas.
start_redis_cluster() {
  local dir=$1 i port bus ports=() hosts=()
  mkdir -p "$dir" || return 1
  for i in 1 2 3; do
    port=$(_redis_free_port)
    bus=$(_redis_free_port)
    _redis_start "$dir" "cluster-$i" --port "$port" --cluster-enabled yes \
      --cluster-port "$bus" --cluster-config-file "$dir/nodes-$i.conf" \
      --cluster-node-timeout 2000 || return 1
    ports+=("$port")
    hosts+=("127.0.0.1:$port")
  done
  for port in "${ports[@]}"; do _redis_wait "$port" || return 1; done
  redis-cli --cluster create "${hosts[@]}" --cluster-replicas 0 --cluster-yes \
    >"$dir/create.log" 2>&1 || { cat "$dir/create.log" >&2; return 1; }
  for i in $(seq 100); do
    local ok=1
    for port in "${ports[@]}"; do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=
    done
    if [ -n "$ok" ]; then
      echo "redis+cluster://127.0.0.1:${ports[0]}?addr=127.0.0.1:${ports[1]}&addr=127.0.0.1:${ports[2]}"
      return 0
    fi
    sleep 0.1
  done
  echo "redis cluster did not reach cluster_state:ok" >&2
  return 1
}

# start_redis_sentinel DIR [NAME]: a master, its replica and three
# sentinels watching them as NAME (default "recipesd"), quorum 2, a master
# judged down after 1 s.
start_redis_sentinel() {
  local dir=$1 name=${2:-recipesd} master replica i port sports=() s
  mkdir -p "$dir" || return 1
  master=$(_redis_free_port)
  _redis_start "$dir" master --port "$master" || return 1
  _redis_wait "$master" || return 1
  replica=$(_redis_free_port)
  _redis_start "$dir" replica --port "$replica" --replicaof 127.0.0.1 "$master" || return 1
  _redis_wait "$replica" || return 1
  for i in 1 2 3; do
    port=$(_redis_free_port)
    cat >"$dir/sentinel-$i.conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
pidfile $dir/sentinel-$i.pid
logfile $dir/sentinel-$i.log
dir $dir
sentinel monitor $name 127.0.0.1 $master 2
sentinel down-after-milliseconds $name 1000
sentinel failover-timeout $name 5000
EOF
    redis-server "$dir/sentinel-$i.conf" --sentinel || return 1
    sports+=("$port")
  done
  for port in "${sports[@]}"; do _redis_wait "$port" || return 1; done
  # Wait until every sentinel knows the replica, so that a failover has
  # somewhere to go as soon as the URL is handed out.
  for i in $(seq 100); do
    local ok=1
    for port in "${sports[@]}"; do
      s=$(redis-cli -p "$port" sentinel replicas "$name" 2>/dev/null | grep -c "127.0.0.1:$replica")
      [ "$s" -ge 1 ] 2>/dev/null || ok=
    done
    if [ -n "$ok" ]; then
      echo "redis://127.0.0.1:${sports[0]}/0?master_name=$name&addr=127.0.0.1:${sports[1]}&addr=127.0.0.1:${sports[2]}"
      return 0
    fi
    sleep 0.1
  done
  echo "sentinels did not discover the replica" >&2
  return 1
}

# stop_redis DIR: stops every server and sentinel started in DIR.
stop_redis() {
  local dir=$1 f pids=() p alive i
  for f in "$dir"/*.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f") && kill "$p" 2>/dev/null && pids+=("$p")
  done
  for i in $(seq 50); do
    alive=
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
  return 1
}
