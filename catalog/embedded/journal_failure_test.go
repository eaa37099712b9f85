package embedded

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

// These tests make the journal of a real embedded store fail (its file
// descriptor swapped for a read-only one of the same file, so every
// append fails in the kernel, as on a full disk) and drive writes through
// the catalog on it and its go-redis client.

// dirStore is a catalog on an embedded store; Close closes both.
type dirStore struct {
	*catalog.Store
	emb *Store
	rdb redis.UniversalClient
}

func (s *dirStore) Close() error { return errors.Join(s.Store.Close(), s.emb.Close()) }

func openDirStore(t *testing.T, dir string) *dirStore {
	t.Helper()
	ctx := context.Background()
	emb, err := Open(ctx, Options{Dir: dir, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(ctx, emb.Client(), catalog.Options{Timeout: 2 * time.Second})
	if err != nil {
		_ = emb.Close()
		t.Fatal(err)
	}
	s := &dirStore{Store: cat, emb: emb, rdb: emb.Client()}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// breakJournal makes every later append to s's journal fail with EBADF.
func breakJournal(t *testing.T, s *dirStore) {
	t.Helper()
	e := s.emb
	e.mu.Lock()
	defer e.mu.Unlock()
	ro, err := os.Open(e.jr.path)
	if err != nil {
		t.Fatal(err)
	}
	old := e.jr.f
	e.jr.f = ro
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
}

// repairJournal undoes breakJournal.
func repairJournal(t *testing.T, s *dirStore) {
	t.Helper()
	e := s.emb
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := os.OpenFile(e.jr.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.jr.f.Close()
	e.jr.f = f
}

// wantRefused checks that err is the store's "cannot save changes" error.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded with a broken journal", what)
	}
	// Raw go-redis calls get the hook's error; Store calls the domain one.
	if recipes.ErrorCode(err) != recipes.EUNAVAILABLE && !errors.As(err, new(*JournalError)) {
		t.Fatalf("%s = %v; want EUNAVAILABLE naming the journal", what, err)
	}
	if !strings.Contains(err.Error(), "journal") {
		t.Fatalf("%s = %v; want an error that names the journal", what, err)
	}
	if recipes.ErrorCode(err) == recipes.EUNAVAILABLE && !strings.Contains(recipes.ErrorMessage(err), "journal") {
		t.Fatalf("%s: message %q; want one that tells the user the journal refuses writes", what, recipes.ErrorMessage(err))
	}
	if errors.Is(err, catalog.ErrOutcomeUnknown) {
		t.Fatalf("%s = %v; the store undid the write, so its outcome is known", what, err)
	}
}

func TestJournalFailure(t *testing.T) {
	ctx := context.Background()
	type state = jfState
	tests := []struct {
		name string
		// setup makes acknowledged writes; act is the write that meets the
		// broken journal; check asserts that only setup's writes are there.
		setup func(t *testing.T, s *dirStore) state
		act   func(s *dirStore, st state) error
		check func(t *testing.T, s *dirStore, st state)
	}{{
		name: "plain command",
		setup: func(t *testing.T, s *dirStore) state {
			if err := s.rdb.Set(ctx, "k", "acked", 0).Err(); err != nil {
				t.Fatal(err)
			}
			return state{}
		},
		act: func(s *dirStore, _ state) error { return s.rdb.Set(ctx, "k", "lost", 0).Err() },
		check: func(t *testing.T, s *dirStore, _ state) {
			if got, err := s.rdb.Get(ctx, "k").Result(); err != nil || got != "acked" {
				t.Errorf("k = %q, %v; want acked", got, err)
			}
		},
	}, {
		name: "MULTI/EXEC",
		setup: func(t *testing.T, s *dirStore) state {
			if err := s.rdb.Set(ctx, "k", "acked", 0).Err(); err != nil {
				t.Fatal(err)
			}
			return state{}
		},
		act: func(s *dirStore, _ state) error {
			_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "k", "lost", 0)
				p.HSet(ctx, "h", "f", "lost")
				return nil
			})
			return err
		},
		check: func(t *testing.T, s *dirStore, _ state) {
			if got, err := s.rdb.Get(ctx, "k").Result(); err != nil || got != "acked" {
				t.Errorf("k = %q, %v; want acked", got, err)
			}
			if n := s.rdb.Exists(ctx, "h").Val(); n != 0 {
				t.Errorf("h exists after its transaction failed")
			}
		},
	}, {
		name:  "device disable (PATCH)",
		setup: addVictim,
		act: func(s *dirStore, _ state) error {
			_, err := ids(s).UpdateDevice(ctx, "victim-1", recipes.DeviceUpdate{Enabled: new(false)})
			return err
		},
		check: victimEnabled,
	}, {
		name:  "device disable",
		setup: addVictim,
		act:   func(s *dirStore, _ state) error { return ids(s).SetDeviceEnabled(ctx, "victim-1", false) },
		check: victimEnabled,
	}, {
		name:  "secret rotation",
		setup: addVictim,
		act: func(s *dirStore, _ state) error {
			_, err := ids(s).RotateDeviceSecret(ctx, "victim-1")
			return err
		},
		check: victimEnabled,
	}, {
		name: "token revocation",
		setup: func(t *testing.T, s *dirStore) state {
			secret, err := ids(s).CreateAPIToken(ctx, "ci", "root", []string{recipes.ScopeCatalog})
			if err != nil {
				t.Fatal(err)
			}
			return state{secret}
		},
		act: func(s *dirStore, _ state) error { return ids(s).RevokeAPIToken(ctx, "ci") },
		check: func(t *testing.T, s *dirStore, st state) {
			if tok, err := ids(s).APIToken(ctx, st.secret); err != nil || tok.Name != "ci" {
				t.Errorf("token = %+v, %v; want the unrevoked token ci", tok, err)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDirStore(t, dir)
			st := tt.setup(t, s)
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping before = %v", err)
			}
			breakJournal(t, s)

			wantRefused(t, "the write", tt.act(s, st))
			tt.check(t, s, st) // undone in memory, not only on disk
			// A retry must not find "nothing to change".
			wantRefused(t, "the retried write", tt.act(s, st))
			wantRefused(t, "another write", s.rdb.Set(ctx, "other", "x", 0).Err())
			wantRefused(t, "Ping", s.Ping(ctx))
			tt.check(t, s, st)
			if n := s.rdb.Exists(ctx, "other").Val(); n != 0 {
				t.Errorf("a refused write is in memory")
			}

			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openDirStore(t, dir)
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping after reopening = %v", err)
			}
			tt.check(t, s, st)
			if n := s.rdb.Exists(ctx, "other").Val(); n != 0 {
				t.Errorf("a refused write came back after a restart")
			}
		})
	}
}

// ids is the identity registry in s's Redis.
func ids(s *dirStore) *identity.Store {
	return identity.New(s.rdb, identity.Options{Timeout: 2 * time.Second})
}

// jfState is what a TestJournalFailure case's setup hands to its checks.
type jfState struct{ secret string }

func addVictim(t *testing.T, s *dirStore) jfState {
	t.Helper()
	secret, err := ids(s).AddDevice(context.Background(), "victim-1", "CM-100")
	if err != nil {
		t.Fatal(err)
	}
	return jfState{secret}
}

func victimEnabled(t *testing.T, s *dirStore, st jfState) {
	t.Helper()
	d, err := ids(s).AuthenticateDevice(context.Background(), "victim-1", st.secret)
	if err != nil || !d.Enabled {
		t.Errorf("victim-1 = %+v, %v; want enabled, with its old secret", d, err)
	}
}

// TestJournalWatchConflict: an EXEC that aborts because a WATCHed key
// changed took no effect, so nothing of it may reach the journal (replay,
// with no concurrent writer, would apply it), and it is no journal failure.
func TestJournalWatchConflict(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDirStore(t, dir)
	if err := s.rdb.Set(ctx, "balance", "10", 0).Err(); err != nil {
		t.Fatal(err)
	}
	conflict := func(broken bool) error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			v, err := tx.Get(ctx, "balance").Int()
			if err != nil {
				return err
			}
			// Another writer gets in between the read and the EXEC.
			if !broken {
				if err := s.rdb.IncrBy(ctx, "balance", 5).Err(); err != nil {
					return err
				}
			} else {
				// Change the watched key without the journal, which is broken.
				s.emb.m.Set("balance", "15")
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "balance", v-1, 0)
				p.Set(ctx, "stale", "applied", 0)
				return nil
			})
			return err
		}, "balance")
	}
	if err := conflict(false); !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("conflicting transaction = %v; want %v", err, redis.TxFailedErr)
	}
	size := s.emb.jr.size
	breakJournal(t, s)
	if err := conflict(true); !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("conflicting transaction with a broken journal = %v; want %v", err, redis.TxFailedErr)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("an aborted EXEC failed the store: %v", err)
	}
	if s.emb.jr.size != size {
		t.Fatalf("an aborted EXEC grew the journal from %d to %d bytes", size, s.emb.jr.size)
	}
	repairJournal(t, s) // so that Close can compact
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDirStore(t, dir)
	if got := s.rdb.Get(ctx, "balance").Val(); got != "15" {
		t.Errorf("balance = %q after reopening; want 15 (10 + the acknowledged 5)", got)
	}
	if n := s.rdb.Exists(ctx, "stale").Val(); n != 0 {
		t.Errorf("the aborted transaction was replayed")
	}
}
