package seed_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// fakeStore is a [seed.Writer] whose Sync runs SyncFn.
type fakeStore struct {
	SyncFn func(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, devs recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error)
}

var _ seed.Writer = (*fakeStore)(nil)

func (s *fakeStore) Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, devs recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
	return s.SyncFn(ctx, cats, recs, devs, opts)
}

func refuse(t *testing.T, what string) func(context.Context, []recipes.Category, []recipes.Recipe, recipes.DeviceImport, seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
	return func(context.Context, []recipes.Category, []recipes.Recipe, recipes.DeviceImport, seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
		t.Errorf("%s called", what)
		return nil, nil, nil
	}
}

func TestSync(t *testing.T) {
	ctx := context.Background()
	parsed, err := seed.Parse("a.json", []byte(file(soups, recipe("tomato-soup"), recipe("pea-soup"))))
	if err != nil {
		t.Fatal(err)
	}
	changes := []recipes.Change{
		{Op: recipes.ItemAdded, Kind: "recipe", ID: "pea-soup", Category: "soups"},
		{Op: recipes.ItemChanged, Kind: "recipe", ID: "tomato-soup", Category: "soups", From: "starters"},
		{Op: recipes.ItemRemoved, Kind: "recipe", ID: "old-soup", Category: "soups"},
		{Op: recipes.ItemRemoved, Kind: "recipe", ID: "tea", Category: "drinks"},
		{Op: recipes.ItemRemoved, Kind: "category", ID: "drinks", Category: "drinks"},
	}

	t.Run("OK", func(t *testing.T) {
		calls := 0
		st := &fakeStore{SyncFn: func(_ context.Context, cats []recipes.Category, recs []recipes.Recipe, devs recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			calls++
			if len(cats) != 1 || len(recs) != 2 || len(devs.Devices) != 0 || !opts.Prune || opts.DryRun || opts.Draft {
				t.Errorf("Sync(%d categories, %d recipes, %d devices, %+v)", len(cats), len(recs), len(devs.Devices), opts)
			}
			return changes, nil, nil
		}}
		rep, err := seed.Sync(ctx, st, parsed, seed.SyncOptions{Prune: true})
		if err != nil || calls != 1 {
			t.Fatalf("Sync: %v, %d calls", err, calls)
		}
		if got, want := rep.String(), "1 categories, 2 recipes; recipes 1 added, 1 changed, 2 removed; categories 0 added, 0 changed, 1 removed"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		var full, removals strings.Builder
		if err := rep.WriteDiff(&full, true); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteDiff(&removals, false); err != nil {
			t.Fatal(err)
		}
		wantFull := "drinks (category removed): 0 added, 0 changed, 1 removed\n  - tea\n" +
			"soups: 1 added, 1 changed, 1 removed\n  + pea-soup\n  ~ tomato-soup (moved from starters)\n  - old-soup\n"
		if diff := cmp.Diff(wantFull, full.String()); diff != "" {
			t.Errorf("WriteDiff(items) (-want +got):\n%s", diff)
		}
		wantRemovals := "drinks (category removed): 0 added, 0 changed, 1 removed\n  - tea\n" +
			"soups: 1 added, 1 changed, 1 removed\n  - old-soup\n"
		if diff := cmp.Diff(wantRemovals, removals.String()); diff != "" {
			t.Errorf("WriteDiff(removals) (-want +got):\n%s", diff)
		}
	})

	t.Run("OKDryRun", func(t *testing.T) {
		st := &fakeStore{SyncFn: func(_ context.Context, _ []recipes.Category, _ []recipes.Recipe, _ recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			if !opts.DryRun {
				t.Error("a dry run wrote")
			}
			return changes, nil, nil
		}}
		rep, err := seed.Sync(ctx, st, parsed, seed.SyncOptions{DryRun: true})
		if err != nil || !rep.DryRun || len(rep.Changes) != len(changes) {
			t.Fatalf("Sync = %+v, %v", rep, err)
		}
	})

	// The whole catalog is checked before the store is asked.
	t.Run("ErrDuplicate", func(t *testing.T) {
		c := parsed
		c.Recipes = append(c.Recipes[:2:2], c.Recipes[0])
		_, err := seed.Sync(ctx, &fakeStore{SyncFn: refuse(t, "Sync")}, c, seed.SyncOptions{})
		if ps := problems(t, err); len(ps) != 1 || ps[0].Field != "id" {
			t.Fatalf("problems %v, want one duplicate id", ps)
		}
	})

	t.Run("ErrDraft", func(t *testing.T) {
		st := &fakeStore{SyncFn: refuse(t, "Sync")}
		if _, err := seed.Sync(ctx, st, parsed, seed.SyncOptions{Draft: true, Prune: true}); err == nil || !strings.Contains(err.Error(), "cannot prune") {
			t.Errorf("-draft -prune: %v", err)
		}
	})

	t.Run("ErrPruneUnknownCategory", func(t *testing.T) {
		c, _ := seed.Parse("b.json", []byte(file(nil, recipe("tomato-soup"))))
		_, err := seed.Sync(ctx, &fakeStore{SyncFn: refuse(t, "Sync")}, c, seed.SyncOptions{Prune: true})
		want := []seed.Problem{{File: "b.json", Line: 6, Kind: "recipe", ID: "tomato-soup", Field: "category", Message: `"soups" is not a category of this catalog`}}
		if diff := cmp.Diff(want, problems(t, err)); diff != "" {
			t.Fatalf("problems (-want +got):\n%s", diff)
		}
	})

	// What the store refuses is reported where the records came from.
	t.Run("ErrStoreValidation", func(t *testing.T) {
		st := &fakeStore{SyncFn: func(context.Context, []recipes.Category, []recipes.Recipe, recipes.DeviceImport, seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			return nil, nil, errors.Join(
				&recipes.ValidationError{Kind: "recipe", ID: "pea-soup", Fields: []recipes.FieldError{{Field: "title", Message: "is required"}}},
				&recipes.ValidationError{Kind: "category", ID: "soups", Fields: []recipes.FieldError{{Field: "name", Message: "is required"}}},
			)
		}}
		_, err := seed.Sync(ctx, st, parsed, seed.SyncOptions{})
		want := []seed.Problem{
			{File: "a.json", Line: 3, Kind: "category", ID: "soups", Field: "name", Message: "is required"},
			{File: "a.json", Line: 7, Kind: "recipe", ID: "pea-soup", Field: "title", Message: "is required"},
		}
		if diff := cmp.Diff(want, problems(t, err)); diff != "" {
			t.Fatalf("problems (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrStore", func(t *testing.T) {
		errDown := recipes.Errorf(recipes.EUNAVAILABLE, "catalog store unavailable")
		st := &fakeStore{SyncFn: func(context.Context, []recipes.Category, []recipes.Recipe, recipes.DeviceImport, seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			return nil, nil, errDown
		}}
		if _, err := seed.Sync(ctx, st, parsed, seed.SyncOptions{}); !errors.Is(err, errDown) {
			t.Fatalf("Sync: %v, want %v", err, errDown)
		}
	})
}
