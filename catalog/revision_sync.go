package catalog

import "github.com/recipesd/recipesd/recipes"

// A seed records one revision "seeded" per category and recipe it writes,
// and one "deleted" per item it prunes (a pruned recipe whose draft stays,
// or a pruned category kept for the drafts filed under it, stays an
// editors' item and records nothing). The snapshot is what the seed wrote;
// the changed fields are against the published copy it replaced.

// syncChanged is [changedMembers] of a recipe a seed replaces.
func syncChanged(raw *string, enc []byte) []string {
	if raw == nil {
		return nil
	}
	ch := changedFrom([]byte(*raw), enc)
	if ch == nil {
		ch = []string{} // changed, in updated_at alone: not "added"
	}
	return ch
}

// syncNotes returns the revisions a published sync records, without the
// snapshots of what it writes, which are stamped when queued (see
// [syncSnapshots]).
func syncNotes(in *syncInput, plan *syncPlan, d carriedDrafts) []revNote {
	notes := make([]revNote, 0, len(plan.catWrite)+len(plan.recWrite)+len(plan.goneRecs)+len(plan.goneCats))
	for _, i := range plan.catWrite {
		c := &in.cats[i]
		nt := revNote{kind: revCategory, id: c.slug, action: recipes.RevSeeded}
		if old, ok := plan.storedCats[c.slug]; ok {
			nt.prev = []byte(old)
		} else {
			nt.revived = true
		}
		notes = append(notes, nt)
	}
	for k, i := range plan.recWrite {
		diff := plan.recDiff[k]
		nt := revNote{kind: revRecipe, id: in.recs[i].id, action: recipes.RevSeeded, changed: diff, revived: diff == nil}
		notes = append(notes, nt)
	}
	for _, g := range plan.goneRecs {
		if _, kept := d.filed[g.id]; !kept {
			notes = append(notes, revNote{kind: revRecipe, id: g.id, action: recipes.RevDeleted, snap: g.raw, deleted: true})
		}
	}
	for _, slug := range plan.goneCats {
		if _, kept := d.keep[slug]; !kept {
			notes = append(notes, revNote{kind: revCategory, id: slug, action: recipes.RevDeleted, snap: []byte(plan.storedCats[slug]), deleted: true})
		}
	}
	return notes
}

// syncSnapshots sets the snapshots of the notes of [syncNotes] to what
// the sync wrote, once [queueSync] stamped it.
func syncSnapshots(revs *revisions, in *syncInput, plan *syncPlan) *revisions {
	for k, i := range plan.catWrite {
		revs.notes[k].snap = in.cats[i].json
	}
	off := len(plan.catWrite)
	for k, i := range plan.recWrite {
		revs.notes[off+k].snap = in.recs[i].recipe
	}
	return revs
}

// draftNotes is [syncNotes] of a sync as drafts: a revision "seeded" for
// each draft it writes. (One it drops, being equal to the published copy,
// records nothing: the editors' copy keeps its content.)
func draftNotes(in *syncInput, plan *draftPlan) []revNote {
	notes := make([]revNote, 0, len(plan.setCats)+len(plan.setRecs))
	for _, i := range plan.setCats {
		c := &in.cats[i]
		nt := revNote{kind: revCategory, id: c.slug, action: recipes.RevSeeded}
		if old, ok := plan.draftCats[c.slug]; ok {
			nt.prev = []byte(old)
		} else if old, ok := plan.pubCats[c.slug]; ok {
			nt.prev = []byte(old)
		} else {
			nt.revived = true
		}
		notes = append(notes, nt)
	}
	for _, i := range plan.setRecs {
		// The copy it replaces is not kept at hand: no changed fields.
		notes = append(notes, revNote{kind: revRecipe, id: in.recs[i].id, action: recipes.RevSeeded, revived: true})
	}
	return notes
}

// draftSnapshots is [syncSnapshots] of [draftNotes].
func draftSnapshots(revs *revisions, in *syncInput, plan *draftPlan) *revisions {
	for k, i := range plan.setCats {
		revs.notes[k].snap = in.cats[i].json
	}
	off := len(plan.setCats)
	for k, i := range plan.setRecs {
		revs.notes[off+k].snap = in.recs[i].recipe
	}
	return revs
}
