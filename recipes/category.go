package recipes

import "time"

// Limits on categories.
const (
	MaxSlugLength        = 48
	MaxCategoryName      = 60
	MaxDescriptionLength = 500
)

// Category groups recipes; appliances ask for it on recipes/<slug>.
type Category struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`

	// Position orders categories on the appliance's screen, lowest first.
	Position int `json:"position"`

	// Translations holds Name and Description in other languages than
	// the catalog's default, by canonical BCP 47 tag; appliances get one
	// language (see [Category.In]).
	Translations map[string]CategoryText `json:"translations,omitempty"`

	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Validate returns a *ValidationError listing every problem with c.
func (c *Category) Validate() error {
	var p problems
	p.slug("slug", c.Slug, MaxSlugLength)
	if c.Slug == "categories" {
		p.add("slug", "%q is reserved for the category list topic", c.Slug)
	}
	p.text("name", c.Name, true, MaxCategoryName)
	p.text("description", c.Description, false, MaxDescriptionLength)
	if c.Position < 0 || c.Position > 1_000_000 {
		p.add("position", "must be between 0 and 1000000, not %d", c.Position)
	}
	c.validateTranslations(&p)
	return p.err("category", c.Slug)
}
