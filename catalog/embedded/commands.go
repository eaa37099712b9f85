package embedded

import (
	"encoding"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// cmdArgs renders c's arguments as go-redis sends them.
func cmdArgs(c redis.Cmder) ([]bstr, error) {
	in := c.Args()
	out := make([]bstr, len(in))
	for i, a := range in {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		case int:
			s = strconv.Itoa(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		case int32:
			s = strconv.FormatInt(int64(v), 10)
		case uint64:
			s = strconv.FormatUint(v, 10)
		case uint32:
			s = strconv.FormatUint(uint64(v), 10)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case float32:
			s = strconv.FormatFloat(float64(v), 'f', -1, 64)
		case bool:
			s = "0"
			if v {
				s = "1"
			}
		case time.Duration:
			s = strconv.FormatInt(v.Nanoseconds(), 10)
		case time.Time:
			s = v.Format(time.RFC3339Nano)
		case net.IP:
			s = string(v)
		case encoding.BinaryMarshaler:
			b, err := v.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("catalog: journal %s argument: %w", c.Name(), err)
			}
			s = string(b)
		case nil:
		default:
			return nil, fmt.Errorf("catalog: cannot journal a %T argument of %s", a, c.Name())
		}
		out[i] = bstr(s)
	}
	return out, nil
}

// pinStreamIDs replaces, in the journaled args of each XADD of cmds that
// took effect, an id miniredis chose ("*" or "<ms>-*") with the id it
// chose: replayed as "*", an entry would get the time of the replay, and
// the stream's order and its trimming by age would be lost. args holds the
// journaled commands of cmds, in order.
func pinStreamIDs(cmds []redis.Cmder, args [][]bstr) {
	i := 0
	for _, c := range cmds {
		if !journaled(c.Name()) {
			continue
		}
		a := args[i]
		i++
		sc, ok := c.(*redis.StringCmd)
		if c.Name() != "xadd" || !ok || sc.Err() != nil || sc.Val() == "" {
			continue
		}
		if at := xaddIDArg(a); at > 0 && (a[at] == "*" || strings.HasSuffix(string(a[at]), "-*")) {
			a[at] = bstr(sc.Val())
		}
	}
}

// xaddIDArg returns the index of the id in the args of an XADD:
// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] id
// field value ...; 0 if the args are not that.
func xaddIDArg(a []bstr) int {
	at := 2
	if at < len(a) && strings.EqualFold(string(a[at]), "nomkstream") {
		at++
	}
	if at < len(a) && (strings.EqualFold(string(a[at]), "maxlen") || strings.EqualFold(string(a[at]), "minid")) {
		at++
		if at < len(a) && (a[at] == "~" || a[at] == "=") {
			at++
		}
		at++ // the threshold
		if at < len(a) && strings.EqualFold(string(a[at]), "limit") {
			at += 2
		}
	}
	if at >= len(a) {
		return 0
	}
	return at
}

// journaled reports whether a command may change data. The list is of the
// commands that do not (reads, connection and transaction control,
// pub/sub); anything else, including commands unknown here, is journaled,
// so a gap in this list costs journal space, never data.
func journaled(name string) bool {
	switch name {
	case "get", "mget", "getrange", "strlen", "substr", "lcs", "exists", "type", "ttl", "pttl",
		"expiretime", "pexpiretime", "keys", "scan", "randomkey", "dbsize", "dump", "object", "memory",
		"hget", "hmget", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hstrlen", "hscan",
		"hrandfield", "httl", "hpttl", "hexpiretime", "hpexpiretime",
		"zrange", "zrangebyscore", "zrangebylex", "zrevrange", "zrevrangebyscore", "zrevrangebylex",
		"zscore", "zmscore", "zcard", "zcount", "zlexcount", "zrank", "zrevrank", "zscan",
		"zrandmember", "zunion", "zinter", "zdiff", "zintercard",
		"smembers", "sismember", "smismember", "scard", "srandmember", "sscan", "sinter", "sunion",
		"sdiff", "sintercard", "lrange", "llen", "lindex", "lpos",
		"xrange", "xrevrange", "xlen", "xinfo", "bitcount", "getbit", "bitpos", "pfcount",
		"geopos", "geodist", "geohash", "geosearch", "georadius_ro", "georadiusbymember_ro", "sort_ro",
		"ping", "echo", "hello", "auth", "select", "client", "info", "time", "command", "config",
		"quit", "reset", "readonly", "readwrite", "role", "lastsave", "wait", "cluster",
		"watch", "unwatch", "multi", "exec", "discard",
		"publish", "spublish", "subscribe", "unsubscribe", "psubscribe", "punsubscribe",
		"ssubscribe", "sunsubscribe", "pubsub":
		return false
	}
	return true
}
