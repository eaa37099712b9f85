package catalog

import "time"

// queueSync queues plan's writes of published content into the bulk batch
// b, stamping what it writes with now in place.
func queueSync(b *batch, in *syncInput, plan *syncPlan, now time.Time) {
	for _, g := range plan.goneRecs {
		b.dropRecipe(g.id, g.pl)
	}
	for _, slug := range plan.goneCats {
		b.dropCategory(slug)
	}
	for _, i := range plan.catWrite {
		c := &in.cats[i]
		c.json = stampJSON(c.json, now)
		b.putCategory(c.slug, c.pos, c.json)
	}
	for k, i := range plan.recWrite {
		e := &in.recs[i]
		e.recipe, e.summary = stampJSON(e.recipe, now), stampJSON(e.summary, now)
		b.putRecipe(*e, plan.recOld[k])
	}
}
