package catalog

import (
	"fmt"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// syncInput is the catalog to sync, encoded. Each JSON value is encoded
// without UpdatedAt ("bare") and with room to stamp it in place.
type syncInput struct {
	cats     []syncCategory
	recs     []encodedRecipe
	catIndex map[string]int // slug -> index in cats
}

type syncCategory struct {
	slug string
	pos  int
	json []byte
}

func encodeSyncInput(cats []recipes.Category, recs []recipes.Recipe) (*syncInput, error) {
	in := &syncInput{
		cats:     make([]syncCategory, len(cats)),
		recs:     make([]encodedRecipe, len(recs)),
		catIndex: make(map[string]int, len(cats)),
	}
	var enc roomyEncoder
	for i, c := range cats {
		c.UpdatedAt = time.Time{}
		b, err := enc.encode(c)
		if err != nil {
			return nil, fmt.Errorf("catalog: encode category %s: %w", c.Slug, err)
		}
		in.cats[i] = syncCategory{slug: c.Slug, pos: c.Position, json: b}
		in.catIndex[c.Slug] = i
	}
	// Encoding 100,000 recipes is most of a seed's work before its
	// transaction: in parallel, each part with an encoder of its own.
	errs := make([]error, len(recs))
	inParallel(len(recs), func(lo, hi int) {
		var enc roomyEncoder
		for i := lo; i < hi; i++ {
			r := recs[i]
			r.UpdatedAt = time.Time{}
			in.recs[i], errs[i] = enc.recipe(&r)
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return in, nil
}
