package recipes

// ChangeOp says what a bulk write does to one category or recipe.
type ChangeOp string

// The operations of a [Change].
const (
	ItemAdded   ChangeOp = "added"
	ItemChanged ChangeOp = "changed"
	ItemRemoved ChangeOp = "removed"
)

// Change is one category or recipe that a bulk write of the catalog (a
// seed) adds, changes or removes. Unchanged items have no Change.
type Change struct {
	Op   ChangeOp
	Kind string // "category" or "recipe"
	ID   string // the category's slug or the recipe's id

	// Category is the recipe's category after the write, or before it for
	// a removed recipe; for a category, its own slug.
	Category string
	// From is the category a changed recipe moved out of; usually empty.
	From string
}
