package redisconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// replyErr is an error Redis replied with, as go-redis sees one.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

// refusal is a write the embedded store refused (or undid).
type refusal struct{ undone bool }

func (refusal) Error() string  { return "journal full" }
func (r refusal) Undone() bool { return r.undone }

func TestErr(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode string // "" for an error without a code (internal)
		wantMsg  string // the user's message, or the text's start if no code
	}{
		{"OK", nil, "", ""},
		{"ErrLoading", replyErr("LOADING Redis is loading the dataset in memory"), recipes.EUNAVAILABLE, "catalog store unavailable"},
		{"ErrTimeout", context.DeadlineExceeded, recipes.EUNAVAILABLE, "catalog store unavailable"},
		{"ErrRefused", refusal{}, recipes.EUNAVAILABLE, "the catalog store cannot save changes (its journal cannot be written) and refuses them until recipesd is restarted"},
		{"ErrUndone", refusal{undone: true}, recipes.EUNAVAILABLE, "catalog store unavailable"},
		{"ErrWrongType", replyErr("WRONGTYPE Operation against a key holding the wrong kind of value"), "", "identity: get x: WRONGTYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redisconn.Err("identity", "get x", tt.err)
			switch {
			case tt.err == nil:
				if err != nil {
					t.Fatalf("Err(nil) = %v; want nil", err)
				}
				return
			case !errors.Is(err, tt.err):
				t.Errorf("Err(%v) = %v; does not wrap the cause", tt.err, err)
			case !strings.Contains(err.Error(), "identity: get x: "):
				t.Errorf("Err(%v) = %q; want the package and op in it", tt.err, err)
			}
			if tt.wantCode == "" {
				var derr *recipes.Error
				if errors.As(err, &derr) || !strings.HasPrefix(err.Error(), tt.wantMsg) {
					t.Errorf("Err(%v) = %q; want an internal error starting %q", tt.err, err, tt.wantMsg)
				}
				return
			}
			if got := recipes.ErrorCode(err); got != tt.wantCode {
				t.Errorf("code = %s; want %s", got, tt.wantCode)
			}
			if got := recipes.ErrorMessage(err); got != tt.wantMsg {
				t.Errorf("message = %q; want %q", got, tt.wantMsg)
			}
		})
	}
}
