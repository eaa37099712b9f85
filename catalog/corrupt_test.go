package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

func TestFind_Corrupt(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	seedSoups(t, s)
	ctx := context.Background()
	tests := []struct {
		name     string
		key, fld string
		q        recipes.Query
	}{
		{"Recipe", "pub:rcp:tomato-soup", "", recipes.Query{Category: "soups", RecipeID: "tomato-soup"}},
		{"Summary", "pub:sums:soups", "apple-soup", recipes.Query{Category: "soups", Limit: 20}},
		{"Category", "pub:cats", "salads", recipes.Query{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.fld == "" {
				err = env.RDB.Set(ctx, env.Key(tt.key), "{not json", 0).Err()
			} else {
				err = env.RDB.HSet(ctx, env.Key(tt.key), tt.fld, "{not json").Err()
			}
			if err != nil {
				t.Fatal(err)
			}
			// Writes behind the store's back are not announced; open a fresh
			// store so nothing is cached.
			_, err = env.Open(t).Find(ctx, tt.q)
			assertCode(t, err, recipes.EINTERNAL, "")
			if !strings.Contains(err.Error(), env.Key(tt.key)) {
				t.Errorf("error %q does not name the key", err)
			}
		})
	}
}
