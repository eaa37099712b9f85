package admin

import (
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// slugify derives a slug from a name: "Soups & Stews" is "soups-stews".
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ReplaceAll(strings.ToLower(name), "ß", "ss") {
		if a, ok := folded[r]; ok {
			r = a
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > recipes.MaxSlugLength {
		s = strings.TrimRight(s[:recipes.MaxSlugLength], "-")
	}
	return s
}

// folded maps the accented letters of common European recipe names to
// their base letter.
var folded = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a', 'ç': 'c', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ñ': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o', 'ø': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y',
}
