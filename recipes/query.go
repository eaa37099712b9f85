package recipes

// Limits on list queries.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxQuery     = 100
	MaxCursor    = 512
)

// Query is what an appliance asks for. Category empty means the category
// list; RecipeID empty means a page of the category's recipes.
type Query struct {
	Category string
	RecipeID string

	// List options; ignored for single recipes and the category list.
	Text   string // case-insensitive substring of title or tag
	Limit  int
	Cursor string // opaque, from the previous page's "next"

	// Model is the asking appliance's model, from its authenticated identity;
	// empty means every recipe suits.
	Model string

	// Languages are the languages wanted, most preferred first: the
	// request's accept-language, then the device's locale. Each falls
	// back by [Fallbacks], and the catalog's default language comes last.
	Languages []string
}

// Kind names what q asks for.
func (q *Query) Kind() string {
	switch {
	case q.Category == "":
		return "categories"
	case q.RecipeID == "":
		return "list"
	}
	return "recipe"
}

// Validate checks the list options and fills the default limit.
func (q *Query) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	switch {
	case q.Limit < 1 || q.Limit > MaxLimit:
		return Errorf(EINVALID, "limit must be between 1 and %d, not %d", MaxLimit, q.Limit)
	case len(q.Text) > MaxQuery:
		return Errorf(EINVALID, "q must be at most %d bytes", MaxQuery)
	case len(q.Cursor) > MaxCursor:
		return Errorf(EINVALID, "cursor is not one this server issued")
	}
	return nil
}
