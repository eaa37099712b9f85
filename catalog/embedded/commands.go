package embedded

import (
	"encoding"
	"fmt"
	"net"
	"strconv"
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
