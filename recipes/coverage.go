package recipes

// Coverage says how far the catalog is translated, per language, over
// the editors' copies of recipes (a recipe's draft if it has one, else
// what is published).
type Coverage struct {
	Recipes   int                      `json:"recipes"` // editors' copies counted
	Languages map[string]LanguageCount `json:"languages"`
}

// LanguageCount is one language's share of [Coverage].
type LanguageCount struct {
	// Translated counts editors' copies with a translation to the
	// language; Missing those without (Recipes - Translated).
	Translated int `json:"translated"`
	Missing    int `json:"missing"`
	// Stored counts recipes and categories whose draft or published copy
	// holds a translation to the language: what removing the language
	// would leave behind.
	StoredRecipes    int `json:"stored_recipes"`
	StoredCategories int `json:"stored_categories"`
}

// Of returns lang's count, with Missing filled from the total.
func (c Coverage) Of(lang string) LanguageCount {
	n := c.Languages[lang]
	n.Missing = c.Recipes - n.Translated
	return n
}
