package seed_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

func TestLoad(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		demo := MustDemo(t)
		calls := 0
		w := &fakeStore{SyncFn: func(_ context.Context, cats []recipes.Category, recs []recipes.Recipe, devs recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			calls++
			if len(devs.Devices) != 0 || opts.Prune || opts.Draft || opts.DryRun || opts.Secrets != nil {
				t.Errorf("Sync(%d devices, %+v); want a plain upsert", len(devs.Devices), opts)
			}
			if diff := cmp.Diff(demo.Categories, cats); diff != "" {
				t.Errorf("categories (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(demo.Recipes, recs); diff != "" {
				t.Errorf("recipes (-want +got):\n%s", diff)
			}
			return nil, nil, nil
		}}
		if err := seed.Load(context.Background(), w, demo); err != nil {
			t.Fatalf("Load: %v", err)
		}
		if calls != 1 {
			t.Errorf("Sync called %d times, want 1", calls)
		}
	})

	// One bad recipe at the end must keep everything out of the store.
	t.Run("ErrInvalid", func(t *testing.T) {
		c := MustDemo(t)
		bad := c.Recipes[len(c.Recipes)-1]
		bad.Steps = append([]recipes.Step(nil), bad.Steps...)
		bad.Steps[0].Speed = new(11)
		c.Recipes[len(c.Recipes)-1] = bad
		w := &fakeStore{SyncFn: refuse(t, "Sync for an invalid catalog")}

		err := seed.Load(context.Background(), w, c)

		ps := problems(t, err)
		if len(ps) != 1 || ps[0].ID != bad.ID || ps[0].Field != "steps[0].speed" || ps[0].Line == 0 {
			t.Errorf("problems %v, want one for %s steps[0].speed with its line", ps, bad.ID)
		}
	})

	t.Run("ErrImport", func(t *testing.T) {
		errDown := errors.New("store is down")
		w := &fakeStore{SyncFn: func(context.Context, []recipes.Category, []recipes.Recipe, recipes.DeviceImport, seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			return nil, nil, errDown
		}}
		if err := seed.Load(context.Background(), w, MustDemo(t)); !errors.Is(err, errDown) {
			t.Errorf("Load: %v, want %v", err, errDown)
		}
	})
}
