package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

func TestStaff(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		if n, err := s.CountStaff(ctx); err != nil || n != 0 {
			t.Fatalf("CountStaff = %d, %v", n, err)
		}
		if err := s.AddStaff(ctx, recipes.Staff{Name: "alice", PasswordHash: "h1"}); err != nil {
			t.Fatal(err)
		}
		st, err := s.Staff(ctx, "alice")
		if err != nil || st.PasswordHash != "h1" {
			t.Fatalf("Staff = %+v, %v", st, err)
		}
		if list, _ := s.StaffList(ctx); len(list) != 1 {
			t.Fatalf("StaffList = %+v", list)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		assertCode(t, s.AddStaff(ctx, recipes.Staff{Name: "alice"}), recipes.ECONFLICT, `staff account "alice" already exists`)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		assertCode(t, s.AddStaff(ctx, recipes.Staff{Name: "Alice Smith"}), recipes.EINVALID, "")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Staff(ctx, "bob")
		assertCode(t, err, recipes.ENOTFOUND, "")
		assertCode(t, s.UpdateStaff(ctx, recipes.Staff{Name: "bob"}), recipes.ENOTFOUND, "")
	})
}

func TestSessions(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	ctx := context.Background()
	if err := s.AddStaff(ctx, recipes.Staff{Name: "alice", PasswordHash: "h1"}); err != nil {
		t.Fatal(err)
	}
	sess := recipes.Session{Staff: "alice", CreatedAt: time.Now().UTC().Truncate(time.Second)}
	for _, h := range []string{"h-one", "h-two"} {
		if err := s.CreateSession(ctx, h, sess, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("OK", func(t *testing.T) {
		got, err := s.Session(ctx, "h-one", time.Hour)
		if err != nil || got.Staff != "alice" {
			t.Fatalf("Session = %+v, %v", got, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Session(ctx, "nope", time.Hour)
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteSession(ctx, "h-one"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "h-one", time.Hour); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("deleted session: %v", err)
		}
		if err := s.DeleteSession(ctx, "h-one"); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
	})
	t.Run("UpdateStaffEndsSessions", func(t *testing.T) {
		if err := s.UpdateStaff(ctx, recipes.Staff{Name: "alice", PasswordHash: "h2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "h-two", time.Hour); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("session survived a password change: %v", err)
		}
	})
	t.Run("IdleExpiry", func(t *testing.T) {
		if env.MR == nil {
			t.Skip("needs miniredis' clock")
		}
		if err := s.CreateSession(ctx, "h-idle", sess, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		env.MR.FastForward(9 * time.Minute)
		if _, err := s.Session(ctx, "h-idle", 10*time.Minute); err != nil {
			t.Fatalf("used within the idle time: %v", err)
		}
		env.MR.FastForward(9 * time.Minute) // 18 min after creation, 9 after use
		if _, err := s.Session(ctx, "h-idle", 10*time.Minute); err != nil {
			t.Fatalf("use did not extend the session: %v", err)
		}
		env.MR.FastForward(11 * time.Minute)
		if _, err := s.Session(ctx, "h-idle", 10*time.Minute); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("idle session still alive: %v", err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	v0, _ := s.Version(ctx)
	if err := s.AddAPIToken(ctx, recipes.APIToken{Name: "ci", Hash: "hash-ci", CreatedBy: "alice", Scopes: []string{recipes.ScopeCatalog}}); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		if tok, err := s.APITokenByHash(ctx, "hash-ci"); err != nil || tok.Name != "ci" || !tok.Allows(recipes.ScopeCatalog) || tok.Allows(recipes.ScopeDevices) {
			t.Fatalf("APITokenByHash = %+v, %v", tok, err)
		}
		if ts, _ := s.APITokens(ctx); len(ts) != 1 || ts[0].CreatedBy != "alice" {
			t.Fatalf("APITokens = %+v", ts)
		}
		if v, _ := s.Version(ctx); v != v0 {
			t.Error("a token bumped the catalog version")
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		assertCode(t, s.AddAPIToken(ctx, recipes.APIToken{Name: "ci", Hash: "other", Scopes: []string{recipes.ScopeCatalog}}), recipes.ECONFLICT, "")
		assertCode(t, s.AddAPIToken(ctx, recipes.APIToken{Name: "no-scope", Hash: "h2"}), recipes.EINVALID, "choose at least one scope (catalog, devices, commands, metrics)")
		assertCode(t, s.AddAPIToken(ctx, recipes.APIToken{Name: "bad-scope", Hash: "h3", Scopes: []string{"root"}}), recipes.EINVALID, `"root" is not a scope (catalog, devices, commands, metrics)`)
	})
	t.Run("Revoke", func(t *testing.T) {
		if err := s.RevokeAPIToken(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
		_, err := s.APITokenByHash(ctx, "hash-ci")
		assertCode(t, err, recipes.ENOTFOUND, "")
		assertCode(t, s.RevokeAPIToken(ctx, "ci"), recipes.ENOTFOUND, `API token "ci" not found`)
	})
}

// TestAPITokenWithoutScopes: a token stored before tokens had scopes keeps
// what it could do then, and gains nothing added since.
func TestAPITokenWithoutScopes(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	ctx := context.Background()
	env.RDB.HSet(ctx, env.Key("staff:tokens"), "old", `{"name":"old","hash":"h-old","created_by":"alice","created_at":"2026-01-02T03:04:05Z"}`)
	env.RDB.HSet(ctx, env.Key("staff:tokhash"), "h-old", "old")
	tok, err := s.APITokenByHash(ctx, "h-old")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Allows(recipes.ScopeCatalog) || !tok.Allows(recipes.ScopeCommands) || tok.Allows(recipes.ScopeDevices) {
		t.Fatalf("old token allows %q", tok.Allowed())
	}
}
