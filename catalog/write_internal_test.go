package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// openOnEmbedded opens a store on an embedded store of its own, whose
// writes queue for the journal as the server's do.
func openOnEmbedded(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	emb, err := embedded.Open(ctx, embedded.Options{Dir: t.TempDir(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	s, err := Open(ctx, emb.Client(), Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestWriteLoopTrueConflict: a write whose WATCHed key another writer
// changes before every one of its EXECs gives up with ECONFLICT, after
// redisconn.MaxAttempts tries, having changed nothing.
func TestWriteLoopTrueConflict(t *testing.T) {
	ctx := context.Background()
	for name, loop := range map[string]func(s *Store, prepare func(context.Context, *redis.Tx) (queueFunc, error)) error{
		"update": func(s *Store, prepare func(context.Context, *redis.Tx) (queueFunc, error)) error {
			return s.update(ctx, "save recipe", []string{"draft"}, prepare)
		},
		"publishing": func(s *Store, prepare func(context.Context, *redis.Tx) (queueFunc, error)) error {
			return s.publishing(ctx, "publish recipe", 6, []string{"draft"}, prepare)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := openOnEmbedded(t)
			tries := 0
			err := loop(s, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
				tries++
				if _, err := tx.Get(ctx, "draft").Result(); err != nil && !errors.Is(err, redis.Nil) {
					return nil, err
				}
				// The other editor saves first, every time.
				if err := s.rdb.Incr(ctx, "draft").Err(); err != nil {
					return nil, err
				}
				return func(ctx context.Context, p redis.Pipeliner) { p.Set(ctx, "draft", "mine", 0) }, nil
			})
			if recipes.ErrorCode(err) != recipes.ECONFLICT {
				t.Fatalf("write = %v; want ECONFLICT", err)
			}
			if tries != redisconn.MaxAttempts || Conflicts(s) != redisconn.MaxAttempts {
				t.Errorf("tried %d times, %d conflicts; want %d of each", tries, Conflicts(s), redisconn.MaxAttempts)
			}
			if got := s.rdb.Get(ctx, "draft").Val(); got != fmt.Sprint(redisconn.MaxAttempts) {
				t.Errorf("draft = %q; want the other editor's 8", got)
			}
		})
	}
}
