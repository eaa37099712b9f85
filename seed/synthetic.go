package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/recipesd/recipesd/recipes"
)

// Synthetic returns a generated catalog of n recipes for load tests and
// benchmarks: valid, realistic-looking (each recipe is a variation of a
// demo recipe: another title, servings and quantities scaled, cooking
// times shifted, sometimes one more ingredient) and the same for the same
// n and randSeed. It uses the ten demo categories and, from 12,500
// recipes on, regional variants of them ("Italian soups"), so that a
// category holds about 1,250 recipes at most (80 categories at most).
func Synthetic(n int, randSeed uint64) (Catalog, error) {
	if n < 0 {
		return Catalog{}, fmt.Errorf("seed: synthetic catalog of %d recipes", n)
	}
	demo, err := Demo()
	if err != nil {
		return Catalog{}, err
	}
	rng := rand.New(rand.NewPCG(randSeed, 0x5eed_ca7a_109e))
	g := &generator{rng: rng, bases: make(map[string][]*recipes.Recipe)}
	for i := range demo.Recipes {
		r := &demo.Recipes[i]
		g.bases[r.Category] = append(g.bases[r.Category], r)
	}
	var c Catalog
	c.Categories = syntheticCategories(demo.Categories, n)
	c.Recipes = make([]recipes.Recipe, 0, n)
	for i := range n {
		cat := &c.Categories[rng.IntN(len(c.Categories))]
		c.Recipes = append(c.Recipes, g.recipe(i, cat))
	}
	return c, nil
}

var cuisines = []string{"Italian", "French", "Spanish", "Greek", "Indian", "Thai", "Mexican"}

// syntheticCategories returns the demo categories and as many regional
// variants as n recipes need, each variant remembering its demo category
// in the description's first words.
func syntheticCategories(base []recipes.Category, n int) []recipes.Category {
	want := min(max(len(base), (n+1249)/1250), len(base)*(1+len(cuisines)))
	cats := make([]recipes.Category, 0, want)
	for _, c := range base {
		c.Position = len(cats) + 1
		cats = append(cats, c)
	}
	for _, cuisine := range cuisines {
		for _, b := range base {
			if len(cats) == want {
				return cats
			}
			cats = append(cats, recipes.Category{
				Slug:        strings.ToLower(cuisine) + "-" + b.Slug,
				Name:        cuisine + " " + strings.ToLower(b.Name[:1]) + b.Name[1:],
				Description: b.Description,
				Position:    len(cats) + 1,
			})
		}
	}
	return cats
}

type generator struct {
	rng   *rand.Rand
	bases map[string][]*recipes.Recipe // demo recipes by demo category
}

var (
	titlePrefixes = []string{"Quick", "Rustic", "Family-style", "Light", "Spiced", "Creamy", "Grandma's", "Weeknight",
		"Herby", "Smoky", "Classic", "Easy", "Hearty", "Summer", "Winter", "Autumn", "Golden", "Zesty", "Garlicky", "Simple"}
	titleSuffixes = []string{"with lemon zest", "with toasted seeds", "with fresh herbs", "with chilli flakes",
		"with crispy onions", "with a swirl of cream", "with roasted garlic", "with brown butter"}
	extraTags = []string{"quick", "family", "batch-cooking", "weeknight", "make-ahead", "budget", "high-protein"}
)

func (g *generator) recipe(i int, cat *recipes.Category) recipes.Recipe {
	demoSlug := cat.Slug
	for _, cuisine := range cuisines {
		demoSlug = strings.TrimPrefix(demoSlug, strings.ToLower(cuisine)+"-")
	}
	pool := g.bases[demoSlug]
	base := pool[g.rng.IntN(len(pool))]

	r := recipes.Recipe{
		Category:   cat.Slug,
		Summary:    base.Summary,
		Difficulty: base.Difficulty,
		Models:     slices.Clone(base.Models),
		Tags:       slices.Clone(base.Tags),
	}
	r.Title = g.title(base.Title)
	r.ID = slugify(r.Title, recipes.MaxIDLength-8) + "-" + strconv.Itoa(i+1)

	r.Servings = min(max(base.Servings+g.rng.IntN(5)-2, 1), recipes.MaxServings)
	scale := float64(r.Servings) / float64(base.Servings)
	for _, in := range base.Ingredients {
		in.Quantity = roundQuantity(in.Quantity * scale)
		r.Ingredients = append(r.Ingredients, in)
	}
	if g.rng.IntN(3) == 0 && len(r.Ingredients) < recipes.MaxIngredients {
		other := pool[g.rng.IntN(len(pool))]
		extra := other.Ingredients[g.rng.IntN(len(other.Ingredients))]
		if !slices.ContainsFunc(r.Ingredients, func(in recipes.Ingredient) bool { return in.Name == extra.Name }) {
			r.Ingredients = append(r.Ingredients, extra)
		}
	}

	sum := 0
	for _, s := range base.Steps {
		if s.Minutes > 2 {
			s.Minutes = min(max(s.Minutes+g.rng.IntN(5)-2, 1), recipes.MaxStepMinutes)
		}
		s.TemperatureC = clonePtr(s.TemperatureC)
		s.Speed = clonePtr(s.Speed)
		sum += s.Minutes
		r.Steps = append(r.Steps, s)
	}
	r.TotalMinutes = min(max(base.TotalMinutes+g.rng.IntN(11)-5, sum, 1), recipes.MaxTotalMinutes)

	if len(r.Tags) < recipes.MaxTags && g.rng.IntN(2) == 0 {
		if t := extraTags[g.rng.IntN(len(extraTags))]; !slices.Contains(r.Tags, t) && (t != "quick" || r.TotalMinutes <= 30) {
			r.Tags = append(r.Tags, t)
		}
	}
	return r
}

// title varies a demo title with a prefix, a suffix or both.
func (g *generator) title(base string) string {
	t := base
	if g.rng.IntN(4) != 0 {
		first, size := utf8.DecodeRuneInString(t)
		lower := strings.ToLower(string(first))
		if strings.HasPrefix(t, "Crème") || strings.ToUpper(t[:min(2, len(t))]) == t[:min(2, len(t))] {
			lower = string(first) // a name, not a word
		}
		t = titlePrefixes[g.rng.IntN(len(titlePrefixes))] + " " + lower + t[size:]
	}
	if !strings.Contains(t, " with ") && g.rng.IntN(3) == 0 {
		t += " " + titleSuffixes[g.rng.IntN(len(titleSuffixes))]
	}
	if utf8.RuneCountInString(t) > recipes.MaxTitleLength {
		return base
	}
	return t
}

// roundQuantity rounds a scaled quantity the way a cook would write it.
func roundQuantity(q float64) float64 {
	switch {
	case q == 0:
		return 0
	case q < 10:
		q = math.Round(q*4) / 4
		return max(q, 0.25)
	case q < 100:
		return math.Round(q)
	}
	return min(math.Round(q/5)*5, recipes.MaxQuantity)
}

func clonePtr(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

var accents = strings.NewReplacer("à", "a", "á", "a", "â", "a", "ä", "a", "ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"í", "i", "î", "i", "ï", "i", "ñ", "n", "ó", "o", "ô", "o", "ö", "o", "ù", "u", "ú", "u", "û", "u", "ü", "u", "'", "")

// slugify turns a title into a slug of at most max bytes.
func slugify(title string, max int) string {
	s := accents.Replace(strings.ToLower(title))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	out := b.String()
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	return out
}
