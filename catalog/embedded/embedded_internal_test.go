package embedded

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// These tests cover what the public API does not write yet: every key type,
// binary values and TTLs through the journal, the snapshot and the clock.

// openTestEmbedded opens a store on dir; closing the store closes the
// client too.
func openTestEmbedded(t *testing.T, dir string) (*Store, redis.UniversalClient) {
	t.Helper()
	e, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return e, e.Client()
}

func TestEmbeddedTypesAndTTLs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, c := openTestEmbedded(t, dir)
	bin := string([]byte{0, 0xff, 0xfe, '\n', 'x'})
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "str", bin, 0)
		p.Set(ctx, "short", "gone soon", 300*time.Millisecond)
		p.Set(ctx, "long", "stays", time.Hour)
		p.HSet(ctx, "hash", "f1", "v1", bin, bin)
		p.ZAdd(ctx, "zset", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: bin})
		p.SAdd(ctx, "set", "x", "y")
		p.RPush(ctx, "list", "1", "2", "1")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Incr(ctx, "counter").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HExpire(ctx, "hash", time.Hour, "f1").Err(); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, c redis.UniversalClient, shortGone bool) {
		t.Helper()
		if got := c.Get(ctx, "str").Val(); got != bin {
			t.Errorf("str = %q", got)
		}
		if got := c.HGetAll(ctx, "hash").Val(); !cmp.Equal(got, map[string]string{"f1": "v1", bin: bin}) {
			t.Errorf("hash = %q", got)
		}
		if got := c.ZRangeWithScores(ctx, "zset", 0, -1).Val(); !cmp.Equal(got, []redis.Z{{Score: -2, Member: bin}, {Score: 1.5, Member: "a"}}) {
			t.Errorf("zset = %v", got)
		}
		if got := c.SMembers(ctx, "set").Val(); len(got) != 2 {
			t.Errorf("set = %q", got)
		}
		if got := c.LRange(ctx, "list", 0, -1).Val(); !cmp.Equal(got, []string{"1", "2", "1"}) {
			t.Errorf("list = %q", got)
		}
		if got := c.Get(ctx, "counter").Val(); got != "1" {
			t.Errorf("counter = %q", got)
		}
		if ttl := c.TTL(ctx, "long").Val(); ttl < 59*time.Minute || ttl > time.Hour {
			t.Errorf("TTL(long) = %v", ttl)
		}
		if ttl := c.HTTL(ctx, "hash", "f1").Val(); len(ttl) != 1 || ttl[0] < 3500 {
			t.Errorf("HTTL(hash f1) = %v", ttl)
		}
		if err := c.Get(ctx, "short").Err(); shortGone != errors.Is(err, redis.Nil) {
			t.Errorf("short: err %v, want gone: %v", err, shortGone)
		}
	}
	t.Run("Live", func(t *testing.T) { check(t, c, false) })

	// Replay from the journal (a crash: no Close, no compaction).
	crashed := t.TempDir()
	for _, name := range []string{"snapshot", "journal"} {
		copyFile(t, dir+"/"+name, crashed+"/"+name)
	}
	t.Run("Journal", func(t *testing.T) {
		e2, c2 := openTestEmbedded(t, crashed)
		defer e2.Close()
		check(t, c2, false)
	})

	// The clock runs: the short key expires without any FastForward.
	time.Sleep(400 * time.Millisecond)
	t.Run("Expired", func(t *testing.T) { check(t, c, true) })

	// Through a snapshot.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("Snapshot", func(t *testing.T) {
		e3, c3 := openTestEmbedded(t, dir)
		defer e3.Close()
		check(t, c3, true)
	})
}

func TestEmbeddedTTLAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, c := openTestEmbedded(t, dir)
	c.Set(ctx, "k", "v", 300*time.Millisecond)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // the key expires while the store is down
	e, c = openTestEmbedded(t, dir)
	defer e.Close()
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("Get(k) err = %v, want expired", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err == nil {
		err = os.WriteFile(to, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedCompaction(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, c := openTestEmbedded(t, dir)
	e.compactAt = 2000
	for i := range 100 {
		if err := c.Incr(ctx, "n").Err(); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			c.HSet(ctx, "h", "f", i)
		}
	}
	if e.jr.size >= e.compactAt {
		t.Fatalf("journal is %d bytes, over the %d compaction threshold", e.jr.size, e.compactAt)
	}
	snap, err := readSnapshot(dir + "/snapshot")
	if err != nil || snap.Seq == 0 {
		t.Fatalf("snapshot %+v, %v; want one written by compaction", snap, err)
	}

	// A crash after the snapshot rename but before the journal was cut
	// must not apply the journal's records twice.
	e.mu.Lock()
	snap, err = dump(e.m, e.seq)
	if err == nil {
		err = writeSnapshot(dir, snap)
	}
	e.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	crashed := t.TempDir()
	for _, name := range []string{"snapshot", "journal"} {
		copyFile(t, dir+"/"+name, crashed+"/"+name)
	}
	e2, c2 := openTestEmbedded(t, crashed)
	defer e2.Close()
	if got := c2.Get(ctx, "n").Val(); got != "100" {
		t.Fatalf("n = %s after recovery, want 100", got)
	}
	if got := c2.HGet(ctx, "h", "f").Val(); got != "90" {
		t.Fatalf("h.f = %s after recovery, want 90", got)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}
