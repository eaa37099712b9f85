package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

// sha256Hex is how session ids and API tokens have always been stored:
// the bare hex SHA-256 of the secret.
func sha256Hex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const alicePassword = "alice-password"

func mustAddStaff(tb testing.TB, s stores, name, password string) {
	tb.Helper()
	if _, err := s.AddStaff(context.Background(), name, password); err != nil {
		tb.Fatal(err)
	}
}

func TestStaff(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		if n, err := s.CountStaff(ctx); err != nil || n != 0 {
			t.Fatalf("CountStaff = %d, %v", n, err)
		}
		mustAddStaff(t, s, "alice", alicePassword)
		st, err := s.Staff(ctx, "alice")
		if err != nil || !strings.HasPrefix(st.PasswordHash, "$2") {
			t.Fatalf("Staff = %+v, %v; want a bcrypt hash", st, err)
		}
		if list, _ := s.StaffList(ctx); len(list) != 1 {
			t.Fatalf("StaffList = %+v", list)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		_, err := s.AddStaff(ctx, "alice", alicePassword)
		assertCode(t, err, recipes.ECONFLICT, `staff account "alice" already exists`)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.AddStaff(ctx, "Alice Smith", alicePassword)
		assertCode(t, err, recipes.EINVALID, "")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Staff(ctx, "bob")
		assertCode(t, err, recipes.ENOTFOUND, "")
		_, err = s.SetPassword(ctx, "bob", "bobs-new-password")
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
}

func TestSessions(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	ctx := context.Background()
	mustAddStaff(t, s, "alice", alicePassword)
	sess := recipes.Session{Staff: "alice", CreatedAt: time.Now().UTC().Truncate(time.Second)}
	ids := make([]string, 2)
	for i := range ids {
		var err error
		if ids[i], err = s.CreateSession(ctx, sess, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("OK", func(t *testing.T) {
		got, err := s.Session(ctx, ids[0], time.Hour)
		if err != nil || got.Staff != "alice" {
			t.Fatalf("Session = %+v, %v", got, err)
		}
		// Only the hash of the id is stored, in the format of old.
		if n := env.RDB.Exists(ctx, env.Plain("staff:sess:{"+sha256Hex(ids[0])+"}")).Val(); n != 1 {
			t.Fatalf("no session stored under the hash of its id")
		}
		if n := env.RDB.Exists(ctx, env.Plain("staff:sess:{"+ids[0]+"}")).Val(); n != 0 {
			t.Fatalf("session stored under its id in clear")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Session(ctx, "nope", time.Hour)
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteSession(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, ids[0], time.Hour); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("deleted session: %v", err)
		}
		if err := s.DeleteSession(ctx, ids[0]); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
	})
	t.Run("SetPasswordEndsSessions", func(t *testing.T) {
		if _, err := s.SetPassword(ctx, "alice", "alices-new-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, ids[1], time.Hour); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("session survived a password change: %v", err)
		}
	})
	t.Run("IdleExpiry", func(t *testing.T) {
		if env.MR == nil {
			t.Skip("needs miniredis' clock")
		}
		id, err := s.CreateSession(ctx, sess, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		env.MR.FastForward(9 * time.Minute)
		if _, err := s.Session(ctx, id, 10*time.Minute); err != nil {
			t.Fatalf("used within the idle time: %v", err)
		}
		env.MR.FastForward(9 * time.Minute) // 18 min after creation, 9 after use
		if _, err := s.Session(ctx, id, 10*time.Minute); err != nil {
			t.Fatalf("use did not extend the session: %v", err)
		}
		env.MR.FastForward(11 * time.Minute)
		if _, err := s.Session(ctx, id, 10*time.Minute); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("idle session still alive: %v", err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	ctx := context.Background()
	v0, _ := s.Version(ctx)
	secret, err := s.CreateAPIToken(ctx, "ci", "alice", []string{recipes.ScopeCatalog})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		if !strings.HasPrefix(secret, "rcpd_") || len(secret) < 50 {
			t.Fatalf("secret %q: want rcpd_ and 256 random bits", secret)
		}
		if tok, err := s.APIToken(ctx, secret); err != nil || tok.Name != "ci" || !tok.Allows(recipes.ScopeCatalog) || tok.Allows(recipes.ScopeDevices) {
			t.Fatalf("APIToken = %+v, %v", tok, err)
		}
		if got := env.RDB.HGet(ctx, env.Key("staff:tokhash"), sha256Hex(secret)).Val(); got != "ci" {
			t.Fatalf("tokhash[sha256(secret)] = %q, want ci", got)
		}
		if ts, _ := s.APITokens(ctx); len(ts) != 1 || ts[0].CreatedBy != "alice" || ts[0].Hash != sha256Hex(secret) {
			t.Fatalf("APITokens = %+v", ts)
		}
		if v, _ := s.Version(ctx); v != v0 {
			t.Error("a token bumped the catalog version")
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		_, err := s.CreateAPIToken(ctx, "ci", "alice", []string{recipes.ScopeCatalog})
		assertCode(t, err, recipes.ECONFLICT, "")
		_, err = s.CreateAPIToken(ctx, "no-scope", "alice", nil)
		assertCode(t, err, recipes.EINVALID, "choose at least one scope (catalog, devices, commands, metrics, audit)")
		_, err = s.CreateAPIToken(ctx, "bad-scope", "alice", []string{"root"})
		assertCode(t, err, recipes.EINVALID, `"root" is not a scope (catalog, devices, commands, metrics, audit)`)
	})
	t.Run("Revoke", func(t *testing.T) {
		if err := s.RevokeAPIToken(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
		_, err := s.APIToken(ctx, secret)
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
	hash := sha256Hex("rcpd_old-secret")
	env.RDB.HSet(ctx, env.Key("staff:tokens"), "old", `{"name":"old","hash":"`+hash+`","created_by":"alice","created_at":"2026-01-02T03:04:05Z"}`)
	env.RDB.HSet(ctx, env.Key("staff:tokhash"), hash, "old")
	tok, err := s.APIToken(ctx, "rcpd_old-secret")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Allows(recipes.ScopeCatalog) || !tok.Allows(recipes.ScopeCommands) || tok.Allows(recipes.ScopeDevices) {
		t.Fatalf("old token allows %q", tok.Allowed())
	}
}

func TestAuthenticateStaff(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	mustAddStaff(t, s, "alice", alicePassword)
	t.Run("OK", func(t *testing.T) {
		if st, err := s.AuthenticateStaff(ctx, "alice", alicePassword); err != nil || st.Name != "alice" {
			t.Fatalf("AuthenticateStaff = %+v, %v", st, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.AuthenticateStaff(ctx, "alice", "not-her-password")
		assertCode(t, err, recipes.EINVALID, "wrong name or password")
		if err != identity.ErrWrongPassword {
			t.Fatalf("err = %v, want ErrWrongPassword", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.AuthenticateStaff(ctx, "bob", alicePassword)
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
}

func TestPasswordPolicy(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	tests := []struct {
		name, password, code string
	}{
		{"OK", "ten-chars!", ""},
		{"OKMultibyte", "ääääääääää", ""}, // 10 characters, 20 bytes
		{"ErrTooShort", "nine-char", recipes.EINVALID},
		{"ErrTooLong", strings.Repeat("x", identity.MaxPassword+1), recipes.EINVALID},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddStaff(ctx, "user-"+string(rune('a'+i)), tt.password)
			assertCode(t, err, tt.code, "")
		})
	}
	t.Run("OKGenerated", func(t *testing.T) {
		generated, err := s.AddStaff(ctx, "gen", "")
		if err != nil || len(generated) < identity.MinPassword {
			t.Fatalf("AddStaff without a password = %q, %v; want a generated one", generated, err)
		}
		if _, err := s.AuthenticateStaff(ctx, "gen", generated); err != nil {
			t.Fatalf("the generated password does not sign in: %v", err)
		}
	})
}

func TestEnsureAdmin(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	created, generated, err := s.EnsureAdmin(ctx, "")
	if err != nil || !created || generated == "" {
		t.Fatalf("EnsureAdmin on an empty store = %v, %q, %v", created, generated, err)
	}
	if _, err := s.AuthenticateStaff(ctx, identity.FirstAdmin, generated); err != nil {
		t.Fatalf("the first admin cannot sign in: %v", err)
	}
	if created, _, err := s.EnsureAdmin(ctx, "another-password"); err != nil || created {
		t.Fatalf("EnsureAdmin with staff = %v, %v; want nothing done", created, err)
	}
}
