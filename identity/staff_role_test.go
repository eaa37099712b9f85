package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

func TestStaffRoles(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	mustAddStaff(t, s, "root", alicePassword) // AddStaff: an admin, as before roles
	if _, err := s.AddStaffAs(ctx, "ed", alicePassword, recipes.RoleEditor); err != nil {
		t.Fatal(err)
	}
	role := func(name string) string {
		t.Helper()
		st, err := s.Staff(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return st.EffectiveRole()
	}
	t.Run("OK", func(t *testing.T) {
		if got := role("root"); got != recipes.RoleAdmin {
			t.Errorf("AddStaff role = %q, want admin", got)
		}
		if got := role("ed"); got != recipes.RoleEditor {
			t.Errorf("AddStaffAs editor role = %q", got)
		}
		if _, err := s.SetRole(ctx, "ed", recipes.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if got := role("ed"); got != recipes.RoleAdmin {
			t.Errorf("after SetRole admin: %q", got)
		}
	})
	t.Run("RoleChangeKeepsSessions", func(t *testing.T) {
		id, err := s.CreateSession(ctx, recipes.Session{Staff: "ed", CreatedAt: time.Now()}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetRole(ctx, "ed", recipes.RoleEditor); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, id, time.Hour); err != nil {
			t.Errorf("session after a role change: %v; want it kept (the role applies per request)", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.AddStaffAs(ctx, "carol", alicePassword, "owner")
		assertCode(t, err, recipes.EINVALID, `"owner" is not a role (admin, editor)`)
		_, err = s.SetRole(ctx, "ed", "")
		assertCode(t, err, recipes.EINVALID, `"" is not a role (admin, editor)`)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.SetRole(ctx, "nobody", recipes.RoleEditor)
		assertCode(t, err, recipes.ENOTFOUND, "")
		_, err = s.SetDisabled(ctx, "nobody", true)
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
	t.Run("DisableEndsSessionsAndSignIn", func(t *testing.T) {
		id, err := s.CreateSession(ctx, recipes.Session{Staff: "ed", CreatedAt: time.Now()}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetDisabled(ctx, "ed", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, id, time.Hour); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Errorf("session of a disabled account: %v, want ENOTFOUND", err)
		}
		if _, err := s.AuthenticateStaff(ctx, "ed", alicePassword); !errors.Is(err, identity.ErrStaffDisabled) {
			t.Errorf("sign-in of a disabled account: %v, want ErrStaffDisabled", err)
		}
		// A wrong password says nothing about the account being disabled.
		if _, err := s.AuthenticateStaff(ctx, "ed", "not-the-password"); !errors.Is(err, identity.ErrWrongPassword) {
			t.Errorf("wrong password of a disabled account: %v, want ErrWrongPassword", err)
		}
		if _, err := s.SetDisabled(ctx, "ed", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateStaff(ctx, "ed", alicePassword); err != nil {
			t.Errorf("sign-in after enabling: %v", err)
		}
	})
	t.Run("LastAdmin", func(t *testing.T) {
		// ed is an editor, root the only admin.
		const msg = `"root" is the last enabled admin: make another account an admin first, or nobody could manage staff, devices and tokens`
		_, err := s.SetRole(ctx, "root", recipes.RoleEditor)
		assertCode(t, err, recipes.ECONFLICT, msg)
		_, err = s.SetDisabled(ctx, "root", true)
		assertCode(t, err, recipes.ECONFLICT, msg)
		// A disabled admin does not count.
		if _, err := s.AddStaffAs(ctx, "sleeper", alicePassword, recipes.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetDisabled(ctx, "sleeper", true); err != nil {
			t.Fatal(err)
		}
		_, err = s.SetRole(ctx, "root", recipes.RoleEditor)
		assertCode(t, err, recipes.ECONFLICT, msg)
		// With another enabled admin, root may step down.
		if _, err := s.SetDisabled(ctx, "sleeper", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetRole(ctx, "root", recipes.RoleEditor); err != nil {
			t.Fatalf("demote with another admin: %v", err)
		}
		if got := role("root"); got != recipes.RoleEditor {
			t.Errorf("root = %q after demotion", got)
		}
	})
}
