package recipes

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Limits on recipes. Temperatures and speeds are what the supported
// appliances can do; a recipe asking for more would fail on the device.
const (
	MaxIDLength       = 64
	MaxTitleLength    = 120
	MaxSummaryLength  = 500
	MaxServings       = 50
	MaxTotalMinutes   = 24 * 60
	MaxIngredients    = 100
	MaxSteps          = 100
	MaxStepText       = 1000
	MaxStepMinutes    = 12 * 60
	MinTemperatureC   = 37
	MaxTemperatureC   = 160
	MaxSpeed          = 10
	MaxTags           = 20
	MaxTagLength      = 32
	MaxIngredientName = 100
	MaxQuantity       = 100_000
)

// Difficulty says how demanding a recipe is.
type Difficulty string

// The difficulties a recipe may have.
const (
	Easy   Difficulty = "easy"
	Medium Difficulty = "medium"
	Hard   Difficulty = "hard"
)

// Models lists the appliance models recipes may be written for.
var Models = []string{"CM-100", "CM-200", "CM-300", "CM-300X"}

// Units lists the units an ingredient quantity may have. An empty unit
// means a count ("2 eggs").
var Units = []string{"", "g", "kg", "ml", "l", "tsp", "tbsp", "cup", "pinch", "clove", "slice", "piece", "bunch", "can"}

// Recipe is one complete recipe as an appliance cooks it.
type Recipe struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`

	Servings     int        `json:"servings"`
	TotalMinutes int        `json:"total_minutes"`
	Difficulty   Difficulty `json:"difficulty"`

	// Models lists the compatible appliance models; empty means all.
	Models []string `json:"models,omitempty"`

	Ingredients []Ingredient `json:"ingredients"`
	Steps       []Step       `json:"steps"`
	Tags        []string     `json:"tags,omitempty"`

	// Translations holds the recipe's words in other languages than the
	// catalog's default, by canonical BCP 47 tag. Appliances never see
	// this member: they get the recipe in one language (see [Recipe.In]).
	Translations map[string]RecipeText `json:"translations,omitempty"`

	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Ingredient is one line of a recipe's shopping list. A zero Quantity means
// "to taste".
type Ingredient struct {
	Name     string  `json:"name"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit,omitempty"`
}

// Step is one thing the appliance or the cook does. TemperatureC and Speed
// are nil when the step does not heat or stir.
type Step struct {
	Text         string `json:"text"`
	Minutes      int    `json:"minutes,omitempty"`
	TemperatureC *int   `json:"temperature_c,omitempty"`
	Speed        *int   `json:"speed,omitempty"`
}

// Summary is what a recipe list shows of a recipe.
type Summary struct {
	ID           string     `json:"id"`
	Category     string     `json:"category"`
	Title        string     `json:"title"`
	Summary      string     `json:"summary,omitempty"`
	Servings     int        `json:"servings"`
	TotalMinutes int        `json:"total_minutes"`
	Difficulty   Difficulty `json:"difficulty"`
	Models       []string   `json:"models,omitempty"`
	Tags         []string   `json:"tags,omitempty"`
	UpdatedAt    time.Time  `json:"updated_at,omitzero"`

	// Translations of Title and Summary, by language; never sent to
	// appliances (see [Summary.In]).
	Translations map[string]SummaryText `json:"translations,omitempty"`
}

// ToSummary returns the list entry for r.
func (r *Recipe) ToSummary() Summary {
	return Summary{
		ID: r.ID, Category: r.Category, Title: r.Title, Summary: r.Summary,
		Servings: r.Servings, TotalMinutes: r.TotalMinutes, Difficulty: r.Difficulty,
		Models: r.Models, Tags: r.Tags, UpdatedAt: r.UpdatedAt,
		Translations: r.summaryTexts(),
	}
}

func (r *Recipe) summaryTexts() map[string]SummaryText {
	if len(r.Translations) == 0 {
		return nil
	}
	m := make(map[string]SummaryText, len(r.Translations))
	for lang, t := range r.Translations {
		m[lang] = SummaryText{Title: t.Title, Summary: t.Summary}
	}
	return m
}

// SuitsModel reports whether a recipe with the given model list can be cooked
// on model. An empty list suits every model, and so does an empty model.
func SuitsModel(models []string, model string) bool {
	return len(models) == 0 || model == "" || slices.Contains(models, model)
}

// Validate returns a *ValidationError listing every problem with r.
func (r *Recipe) Validate() error {
	var p problems
	p.slug("id", r.ID, MaxIDLength)
	p.slug("category", r.Category, MaxSlugLength)
	p.text("title", r.Title, true, MaxTitleLength)
	p.text("summary", r.Summary, false, MaxSummaryLength)
	if r.Servings < 1 || r.Servings > MaxServings {
		p.add("servings", "must be between 1 and %d, not %d", MaxServings, r.Servings)
	}
	if r.TotalMinutes < 1 || r.TotalMinutes > MaxTotalMinutes {
		p.add("total_minutes", "must be between 1 and %d, not %d", MaxTotalMinutes, r.TotalMinutes)
	}
	switch r.Difficulty {
	case Easy, Medium, Hard:
	case "":
		p.add("difficulty", "is required (easy, medium or hard)")
	default:
		p.add("difficulty", "%q is not one of easy, medium, hard", r.Difficulty)
	}
	for i, m := range r.Models {
		if !slices.Contains(Models, m) {
			p.add(fmt.Sprintf("models[%d]", i), "%q is not a known appliance model (%s)", m, strings.Join(Models, ", "))
		} else if slices.Index(r.Models, m) != i {
			p.add(fmt.Sprintf("models[%d]", i), "%q is listed twice", m)
		}
	}
	r.validateIngredients(&p)
	r.validateSteps(&p)
	r.validateTranslations(&p)
	if len(r.Tags) > MaxTags {
		p.add("tags", "has %d tags; the limit is %d", len(r.Tags), MaxTags)
	}
	for i, t := range r.Tags {
		switch {
		case t == "" || len(t) > MaxTagLength:
			p.add(indexed("tags", i, ""), "must be 1 to %d characters", MaxTagLength)
		case strings.ToLower(t) != t || strings.ContainsFunc(t, isBadControl) || strings.ContainsAny(t, ",#+/"):
			p.add(indexed("tags", i, ""), "%q must be lower case without control characters or , # + /", t)
		}
	}
	return p.err("recipe", r.ID)
}

func (r *Recipe) validateIngredients(p *problems) {
	switch {
	case len(r.Ingredients) == 0:
		p.add("ingredients", "needs at least one ingredient")
	case len(r.Ingredients) > MaxIngredients:
		p.add("ingredients", "has %d ingredients; the limit is %d", len(r.Ingredients), MaxIngredients)
	}
	for i, in := range r.Ingredients {
		// Field names are made only for a problem (see textAt).
		p.textAt("ingredients", i, ".name", in.Name, true, MaxIngredientName)
		switch {
		case math.IsNaN(in.Quantity) || math.IsInf(in.Quantity, 0):
			p.add(indexed("ingredients", i, ".quantity"), "must be a number")
		case in.Quantity < 0:
			p.add(indexed("ingredients", i, ".quantity"), "must not be negative (%g)", in.Quantity)
		case in.Quantity > MaxQuantity:
			p.add(indexed("ingredients", i, ".quantity"), "must be at most %d", MaxQuantity)
		}
		if !slices.Contains(Units, in.Unit) {
			p.add(indexed("ingredients", i, ".unit"), "%q is not a known unit (%s)", in.Unit, strings.Join(Units[1:], ", "))
		}
	}
}

func (r *Recipe) validateSteps(p *problems) {
	switch {
	case len(r.Steps) == 0:
		p.add("steps", "needs at least one step")
	case len(r.Steps) > MaxSteps:
		p.add("steps", "has %d steps; the limit is %d", len(r.Steps), MaxSteps)
	}
	for i, s := range r.Steps {
		p.textAt("steps", i, ".text", s.Text, true, MaxStepText)
		if s.Minutes < 0 || s.Minutes > MaxStepMinutes {
			p.add(indexed("steps", i, ".minutes"), "must be between 0 and %d, not %d", MaxStepMinutes, s.Minutes)
		}
		if t := s.TemperatureC; t != nil && (*t < MinTemperatureC || *t > MaxTemperatureC) {
			p.add(indexed("steps", i, ".temperature_c"), "must be between %d and %d °C, not %d", MinTemperatureC, MaxTemperatureC, *t)
		}
		if v := s.Speed; v != nil && (*v < 0 || *v > MaxSpeed) {
			p.add(indexed("steps", i, ".speed"), "must be between 0 and %d, not %d", MaxSpeed, *v)
		}
	}
}
