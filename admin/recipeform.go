package admin

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// recipeForm is the recipe form exactly as typed, so that a form with
// problems comes back with everything the editor entered. Field names
// follow the JSON paths of [recipes.FieldError]: "steps[2].temperature_c".
type recipeForm struct {
	ID           string
	Category     string
	Title        string
	Summary      string
	Servings     string
	TotalMinutes string
	Difficulty   string
	Models       []string
	Tags         string
	Ingredients  []ingredientRow
	Steps        []stepRow
}

// Rows remember in Orig their index in the saved recipe (empty for a row
// added in the form), so that translations follow a row that moves and go
// with one that is removed (see carryTranslations).
type ingredientRow struct {
	Name, Quantity, Unit string
	Orig                 string
}

type stepRow struct {
	Text, Minutes, TemperatureC, Speed string
	Orig                               string
}

func (r ingredientRow) empty() bool { r.Orig = ""; return r == ingredientRow{} }
func (r stepRow) empty() bool       { r.Orig = ""; return r == stepRow{} }

// fields maps the form's names of a row's fields ("ingredients[0].unit")
// to where the row keeps them.
func (r *ingredientRow) fields() map[string]*string {
	return map[string]*string{"name": &r.Name, "quantity": &r.Quantity, "unit": &r.Unit, "orig": &r.Orig}
}

func (r *stepRow) fields() map[string]*string {
	return map[string]*string{"text": &r.Text, "minutes": &r.Minutes, "temperature_c": &r.TemperatureC, "speed": &r.Speed, "orig": &r.Orig}
}

// row returns row i of rows, adding empty rows up to it.
func row[T any](rows *[]T, i int) *T {
	for len(*rows) <= i {
		*rows = append(*rows, *new(T))
	}
	return &(*rows)[i]
}

// HasModel reports whether model is ticked.
func (f recipeForm) HasModel(model string) bool { return slices.Contains(f.Models, model) }

// rowView is one repeated row as the template shows it: its 1-based
// number and the path prefix of its fields.
type rowView[T any] struct {
	Row    T
	I      int // 0-based
	N      int
	Prefix string // like "steps[2]"
	First  bool
	Last   bool
}

func rows[T any](name string, rs []T) []rowView[T] {
	out := make([]rowView[T], len(rs))
	for i, r := range rs {
		out[i] = rowView[T]{Row: r, I: i, N: i + 1, Prefix: fmt.Sprintf("%s[%d]", name, i), First: i == 0, Last: i == len(rs)-1}
	}
	return out
}

// IngredientRows returns the ingredient rows for the template.
func (f recipeForm) IngredientRows() []rowView[ingredientRow] {
	return rows("ingredients", f.Ingredients)
}

// StepRows returns the step rows for the template.
func (f recipeForm) StepRows() []rowView[stepRow] { return rows("steps", f.Steps) }

func formFromRecipe(r recipes.Recipe) recipeForm {
	f := recipeForm{
		ID: r.ID, Category: r.Category, Title: r.Title, Summary: r.Summary,
		Servings: strconv.Itoa(r.Servings), TotalMinutes: strconv.Itoa(r.TotalMinutes),
		Difficulty: string(r.Difficulty), Models: r.Models, Tags: strings.Join(r.Tags, ", "),
	}
	for i, in := range r.Ingredients {
		f.Ingredients = append(f.Ingredients, ingredientRow{Name: in.Name, Quantity: strconv.FormatFloat(in.Quantity, 'f', -1, 64), Unit: in.Unit, Orig: strconv.Itoa(i)})
	}
	for i, st := range r.Steps {
		row := stepRow{Text: st.Text, Orig: strconv.Itoa(i)}
		if st.Minutes != 0 {
			row.Minutes = strconv.Itoa(st.Minutes)
		}
		if st.TemperatureC != nil {
			row.TemperatureC = strconv.Itoa(*st.TemperatureC)
		}
		if st.Speed != nil {
			row.Speed = strconv.Itoa(*st.Speed)
		}
		f.Steps = append(f.Steps, row)
	}
	return f
}

// newRecipeForm is an empty form with a few rows to fill in.
func newRecipeForm(category string) recipeForm {
	return recipeForm{
		Category: category, Servings: "4", Difficulty: string(recipes.Easy),
		Ingredients: make([]ingredientRow, 3), Steps: make([]stepRow, 2),
	}
}

var rowField = regexp.MustCompile(`^(ingredients|steps)\[(\d{1,3})\]\.([a-z_]+)$`)

// parseRecipeForm reads the submitted form.
func parseRecipeForm(v url.Values) recipeForm {
	f := recipeForm{
		ID: strings.TrimSpace(v.Get("id")), Title: strings.TrimSpace(v.Get("title")),
		Summary: strings.TrimSpace(v.Get("summary")), Servings: strings.TrimSpace(v.Get("servings")),
		TotalMinutes: strings.TrimSpace(v.Get("total_minutes")), Difficulty: v.Get("difficulty"),
		Models: v["models"], Tags: strings.TrimSpace(v.Get("tags")),
	}
	for key, vals := range v {
		m := rowField.FindStringSubmatch(key)
		if m == nil || len(vals) == 0 {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if i >= recipes.MaxSteps+recipes.MaxIngredients {
			continue
		}
		var fields map[string]*string
		switch m[1] {
		case "ingredients":
			fields = row(&f.Ingredients, i).fields()
		case "steps":
			fields = row(&f.Steps, i).fields()
		}
		if p := fields[m[3]]; p != nil {
			*p = strings.TrimSpace(vals[0])
		}
	}
	return f
}

// apply carries out a row operation of the form ("add-step",
// "remove-ingredient:2", "step-up:1", ...) and reports whether op was one.
func (f *recipeForm) apply(op string) bool {
	name, arg, _ := strings.Cut(op, ":")
	i, err := strconv.Atoi(arg)
	in := func(n int) bool { return err == nil && i >= 0 && i < n }
	switch name {
	case "add-ingredient":
		f.Ingredients = append(f.Ingredients, ingredientRow{})
	case "add-step":
		f.Steps = append(f.Steps, stepRow{})
	case "remove-ingredient":
		if in(len(f.Ingredients)) {
			f.Ingredients = slices.Delete(f.Ingredients, i, i+1)
		}
	case "remove-step":
		if in(len(f.Steps)) {
			f.Steps = slices.Delete(f.Steps, i, i+1)
		}
	case "step-up":
		if in(len(f.Steps)) && i > 0 {
			f.Steps[i-1], f.Steps[i] = f.Steps[i], f.Steps[i-1]
		}
	case "step-down":
		if in(len(f.Steps)) && i < len(f.Steps)-1 {
			f.Steps[i+1], f.Steps[i] = f.Steps[i], f.Steps[i+1]
		}
	default:
		return false
	}
	return true
}

// recipe converts the form, dropping rows left entirely empty, and returns
// every problem: numbers that do not parse, then [recipes.Recipe.Validate]'s
// findings for the fields that did.
func (f *recipeForm) recipe() (recipes.Recipe, formErrors) {
	var errs formErrors
	f.Ingredients = slices.DeleteFunc(f.Ingredients, ingredientRow.empty)
	f.Steps = slices.DeleteFunc(f.Steps, stepRow.empty)
	r := recipes.Recipe{
		ID: f.ID, Category: f.Category, Title: f.Title, Summary: f.Summary,
		Difficulty: recipes.Difficulty(f.Difficulty), Models: f.Models,
		Servings:     wholeNumber(&errs, "servings", f.Servings, true),
		TotalMinutes: wholeNumber(&errs, "total_minutes", f.TotalMinutes, true),
	}
	for _, t := range strings.Split(f.Tags, ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			r.Tags = append(r.Tags, t)
		}
	}
	for i, row := range f.Ingredients {
		p := fmt.Sprintf("ingredients[%d]", i)
		in := recipes.Ingredient{Name: row.Name, Unit: row.Unit}
		if row.Quantity != "" {
			q, err := strconv.ParseFloat(strings.Replace(row.Quantity, ",", ".", 1), 64)
			if err != nil {
				errs.add(p+".quantity", "must be a number, like 250 or 1.5")
			}
			in.Quantity = q
		}
		r.Ingredients = append(r.Ingredients, in)
	}
	for i, row := range f.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		st := recipes.Step{Text: row.Text, Minutes: wholeNumber(&errs, p+".minutes", row.Minutes, false)}
		if row.TemperatureC != "" {
			t := wholeNumber(&errs, p+".temperature_c", row.TemperatureC, false)
			st.TemperatureC = &t
		}
		if row.Speed != "" {
			sp := wholeNumber(&errs, p+".speed", row.Speed, false)
			st.Speed = &sp
		}
		r.Steps = append(r.Steps, st)
	}
	if err := r.Validate(); err != nil {
		var found formErrors
		found.addErr(err, placeRecipeField)
		for _, fe := range found.order {
			if !errs.Has(fe.Field) || !parsed(fe.Field) {
				errs.add(fe.Field, fe.Message)
			}
		}
		errs.General = append(errs.General, found.General...)
	}
	return r, errs
}

// parsed reports whether field is one whose parse error makes its
// validation error redundant.
func parsed(field string) bool {
	return field == "servings" || field == "total_minutes" ||
		strings.HasSuffix(field, ".quantity") || strings.HasSuffix(field, ".minutes") ||
		strings.HasSuffix(field, ".temperature_c") || strings.HasSuffix(field, ".speed")
}

func wholeNumber(errs *formErrors, field, s string, required bool) int {
	if s == "" {
		if required {
			errs.add(field, "is required")
		}
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		errs.add(field, "must be a whole number")
	}
	return n
}

// placeRecipeField maps a validation path to the form field that shows
// it: single tags and models are shown by their list, the category (fixed
// by the page) in the summary at the top.
func placeRecipeField(path string) string {
	switch {
	case strings.HasPrefix(path, "tags["):
		return "tags"
	case strings.HasPrefix(path, "models["):
		return "models"
	case path == "category":
		return ""
	}
	return path
}
