package recipes

// Status says how the editors' copy of a category or recipe relates to what
// appliances see.
type Status string

// The statuses of an editor's copy.
const (
	// Published: appliances see exactly the editors' copy.
	Published Status = "published"
	// Unpublished: new, appliances do not see it at all yet.
	Unpublished Status = "unpublished"
	// Changed: published, with edits appliances do not see yet.
	Changed Status = "changed"
)

// CategoryInfo is a category as editors see it: their copy (the draft if
// there is one), its status and how many recipes it holds.
type CategoryInfo struct {
	Category
	Status  Status `json:"status"`
	Recipes int    `json:"recipes"` // filed in it, published or not
	Pending int    `json:"pending"` // of those, new or changed since publishing
}

// RecipeInfo is a recipe list entry as editors see it.
type RecipeInfo struct {
	Summary
	Status Status `json:"status"`
}

// RecipeFilter selects a page of a category's recipes for editors.
type RecipeFilter struct {
	Text   string // case-insensitive substring of title or tag; empty: all
	Offset int
	Limit  int // 0: DefaultLimit
}

// RecipePage is one page of a category's recipes and how many match in all.
type RecipePage struct {
	Items []RecipeInfo `json:"items"`
	Total int          `json:"total"`
}

// CategoryUpdate changes a category's editable fields; nil means unchanged.
type CategoryUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// CategoryRemoval says what becomes of a category's recipes when it is
// deleted. The zero value refuses to delete a category that holds recipes.
type CategoryRemoval struct {
	MoveTo        string `json:"move_to,omitempty"`        // move them to this category
	DeleteRecipes bool   `json:"delete_recipes,omitempty"` // delete them with it
}

// Publication lists what a publish made visible to appliances.
type Publication struct {
	Categories []string `json:"categories"`
	Recipes    []string `json:"recipes"`
}

// Empty reports whether nothing was published.
func (p Publication) Empty() bool { return len(p.Categories) == 0 && len(p.Recipes) == 0 }
