package catalog

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// bulkQueue groups items into one command per command name and key, in
// chunks of bulkChunk items. No two groups of one sync touch the same field,
// member or key (removals concern ids and categories the sync does not
// write, and a moved recipe's old entries lie under other keys than its new
// ones), so the order between them does not matter.
type bulkQueue struct {
	ctx    context.Context
	p      redis.Pipeliner
	groups map[bulkKey]*bulkGroup
	order  []*bulkGroup
}

type bulkKey struct{ cmd, key string }

type bulkGroup struct {
	cmd  string
	key  string // empty for mset and del, whose items are keys
	args []any
	n    int
}

// add appends one item, the key first for mset and del, to the command
// cmd on key.
func (q *bulkQueue) add(cmd string, key string, item ...any) {
	if q.groups == nil {
		q.groups = make(map[bulkKey]*bulkGroup)
	}
	k := bulkKey{cmd, key}
	if cmd == "mset" || cmd == "del" {
		k.key = ""
		item = append([]any{key}, item...)
	}
	g := q.groups[k]
	if g == nil {
		g = &bulkGroup{cmd: cmd, key: k.key}
		q.groups[k] = g
		q.order = append(q.order, g)
	}
	g.args = append(g.args, item...)
	g.n++
	if g.n == bulkChunk {
		q.send(g)
	}
}

func (q *bulkQueue) send(g *bulkGroup) {
	if g.n == 0 {
		return
	}
	args := make([]any, 0, 2+len(g.args))
	args = append(args, g.cmd)
	if g.key != "" {
		args = append(args, g.key)
	}
	args = append(args, g.args...)
	q.p.Do(q.ctx, args...)
	g.args, g.n = g.args[:0:0], 0
}

func (q *bulkQueue) flush() {
	for _, g := range q.order {
		q.send(g)
	}
}
