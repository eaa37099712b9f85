# Minimal Redis topologies on loopback for the cluster end-to-end tests,
# sourced by .ci/run. Placeholder until .ci/redis-topologies.sh lands with
# start_redis_cluster / start_redis_sentinel; the two are meant to be
# reconciled into that file.
#
# Each function starts its servers daemonized, writes their pid files into
# DIR (the caller's cleanup kills every DIR/*.pid) and sets:
#   e2e_cluster_url   redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...   (3 masters)
#   e2e_sentinel_url  redis://127.0.0.1:S1/0?master_name=e2e&addr=...  (1+1+3)
# They use free_port from .ci/run.

# e2e_redis NAME DIR PORT ARGS...: one daemonized redis-server, waited for.
e2e_redis() {
  local name=$1 dir=$2 port=$3; shift 3
  mkdir -p "$dir/$name"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$dir/$name" --daemonize yes --pidfile "$dir/$name.pid" \
    --logfile "$dir/$name.log" "$@" || return 1
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis $name did not come up on $port:"; tail -5 "$dir/$name.log"
  return 1
}

# start_redis_cluster DIR: 3 masters, no replicas, every slot assigned.
start_redis_cluster() {
  local dir=$1 ports=() p i
  for i in 1 2 3; do
    p=$(free_port)
    e2e_redis "cluster$i" "$dir" "$p" --cluster-enabled yes \
      --cluster-config-file "$dir/cluster$i/nodes.conf" --cluster-node-timeout 2000 || return 1
    ports+=("$p")
  done
  redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 \
    || { cat "$dir/cluster-create.log"; return 1; }
  for _ in $(seq 100); do
    redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
    sleep 0.1
  done
  redis-cli -p "${ports[0]}" cluster info | grep -q 'cluster_state:ok' || { echo "cluster not ok"; return 1; }
  e2e_cluster_url="redis+cluster://127.0.0.1:${ports[0]}?addr=127.0.0.1:${ports[1]}&addr=127.0.0.1:${ports[2]}"
}

# start_redis_sentinel DIR: master "e2e", one replica, three sentinels
# that judge the master down after 1 s.
start_redis_sentinel() {
  local dir=$1 mport rport sports=() p i
  mport=$(free_port)
  e2e_redis master "$dir" "$mport" || return 1
  rport=$(free_port)
  e2e_redis replica "$dir" "$rport" --replicaof 127.0.0.1 "$mport" || return 1
  for i in 1 2 3; do
    p=$(free_port)
    mkdir -p "$dir/sentinel$i"
    cat >"$dir/sentinel$i/sentinel.conf" <<CONF
bind 127.0.0.1
port $p
dir $dir/sentinel$i
daemonize yes
pidfile $dir/sentinel$i.pid
logfile $dir/sentinel$i.log
sentinel monitor e2e 127.0.0.1 $mport 2
sentinel down-after-milliseconds e2e 1000
sentinel failover-timeout e2e 5000
sentinel parallel-syncs e2e 1
CONF
    redis-server "$dir/sentinel$i/sentinel.conf" --sentinel || return 1
    sports+=("$p")
  done
  for p in "${sports[@]}"; do
    for _ in $(seq 100); do
      [ "$(redis-cli -p "$p" sentinel ckquorum e2e 2>/dev/null | cut -c1-2)" = OK ] && break
      sleep 0.1
    done
  done
  redis-cli -p "${sports[0]}" sentinel ckquorum e2e | grep -q '^OK' \
    || { echo "sentinels have no quorum:"; tail -5 "$dir/sentinel1.log"; return 1; }
  e2e_sentinel_url="redis://127.0.0.1:${sports[0]}/0?master_name=e2e&addr=127.0.0.1:${sports[1]}&addr=127.0.0.1:${sports[2]}"
}
