package recipes

import "time"

// Revision is one recorded change of a recipe or category: who made it,
// when, what kind of change it was, the editors' copy right after it, and
// the fields that changed. Revisions of an item are numbered 1, 2, … in
// the order they were made; the catalog keeps the most recent ones.
type Revision struct {
	N      int64     `json:"n"`
	Time   time.Time `json:"time"`
	Actor  Actor     `json:"actor"`
	Action string    `json:"action"` // one of the Rev… constants
	// From is the revision a restore brought back (Action RevRestored).
	From int64 `json:"from,omitempty"`
	// Changed names the fields that differ from the copy before the change
	// (JSON member names, "translations.de" for one language's words); for
	// a publish, from what appliances saw before. Empty when the item was
	// created or deleted.
	Changed []string `json:"changed,omitempty"`

	// The snapshot: the editors' copy after the change (for a deletion,
	// the copy that was deleted). Exactly one is set.
	Recipe   *Recipe   `json:"recipe,omitempty"`
	Category *Category `json:"category,omitempty"`
}

// Kinds of item that have revisions.
const (
	RevisionRecipe   = "recipe"
	RevisionCategory = "category"
)

// Actions of a [Revision].
const (
	RevCreated     = "created"
	RevSaved       = "saved"
	RevPublished   = "published"
	RevDiscarded   = "discarded" // the draft was dropped: back to the published copy
	RevMoved       = "moved"
	RevDeleted     = "deleted"
	RevRestored    = "restored"
	RevSeeded      = "seeded" // written by a seed (catalog file)
	RevUnpublished = "unpublished"
)
