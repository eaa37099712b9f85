package catalog

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// batch queues writes into one MULTI/EXEC. Each key family has one writer,
// a method of batch: published recipes and categories in
// queue_published.go, editors' drafts in queue_draft.go. An edit queues
// its item or two through a batch from [Store.queue], which sends each
// command as it comes; [Store.Sync] queues up to 100,000 items through one
// from [Store.bulk], which groups them into one command per command name
// and key, in chunks of bulkChunk items, so that the whole catalog is a
// few large commands and one short transaction.
//
// Grouping changes the order of commands: the items of one bulk batch must
// not touch the same field, member or key twice. A sync's never do:
// removals concern ids and categories it does not write, a moved recipe's
// old entries lie under other keys than its new ones, and it drops the
// drafts only of items it does not write as drafts.
type batch struct {
	ctx  context.Context
	p    redis.Pipeliner
	keys *keys

	groups map[bulkKey]*bulkGroup // nil: send at once
	order  []*bulkGroup
	lists  map[string][2]string // slug -> its idx and sums keys, made once

	revisionsKept int // see putRevisions
}

// Commands carry at most this many items each, which keeps every command
// and reply far below Redis' limits.
const bulkChunk = 1000

type bulkKey struct{ cmd, key string }

type bulkGroup struct {
	cmd  string
	key  string // empty for mset and del, whose items are keys
	args []any
	n    int
}

// queue returns a batch that sends each command at once.
func (s *Store) queue(ctx context.Context, p redis.Pipeliner) *batch {
	return &batch{ctx: ctx, p: p, keys: &s.keys, revisionsKept: s.opts.RevisionsKept}
}

// bulk returns a batch that groups commands until flush.
func (s *Store) bulk(ctx context.Context, p redis.Pipeliner) *batch {
	b := s.queue(ctx, p)
	b.groups = make(map[bulkKey]*bulkGroup)
	b.lists = make(map[string][2]string)
	return b
}

// add queues one item, the key first for mset and del, of the command cmd
// on key.
func (b *batch) add(cmd string, key string, item ...any) {
	if b.groups == nil {
		b.p.Do(b.ctx, append([]any{cmd, key}, item...)...)
		return
	}
	k := bulkKey{cmd, key}
	if cmd == "mset" || cmd == "del" {
		k.key = ""
		item = append([]any{key}, item...)
	}
	g := b.groups[k]
	if g == nil {
		g = &bulkGroup{cmd: cmd, key: k.key}
		b.groups[k] = g
		b.order = append(b.order, g)
	}
	g.args = append(g.args, item...)
	g.n++
	if g.n == bulkChunk {
		b.send(g)
	}
}

func (b *batch) send(g *bulkGroup) {
	if g.n == 0 {
		return
	}
	args := make([]any, 0, 2+len(g.args))
	args = append(args, g.cmd)
	if g.key != "" {
		args = append(args, g.key)
	}
	args = append(args, g.args...)
	b.p.Do(b.ctx, args...)
	g.args, g.n = g.args[:0:0], 0
}

// flush sends what a bulk batch holds.
func (b *batch) flush() {
	for _, g := range b.order {
		b.send(g)
	}
}

// catLists returns the index and summaries keys of category slug.
func (b *batch) catLists(slug string) (idx, sums string) {
	if b.lists == nil {
		return b.keys.idx(slug), b.keys.sums(slug)
	}
	k, ok := b.lists[slug]
	if !ok {
		k = [2]string{b.keys.idx(slug), b.keys.sums(slug)}
		b.lists[slug] = k
	}
	return k[0], k[1]
}
