package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

func TestLanguagesRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newEnv(t).Open(t)
	l, err := s.Languages(ctx)
	if err != nil || l.Default != recipes.DefaultLanguage || len(l.Others) != 0 {
		t.Fatalf("fresh catalog: Languages() = %+v, %v; want en alone", l, err)
	}
	want := recipes.Languages{Default: "de", Others: []string{"fr-CA", "en"}}
	if err := s.SetLanguages(ctx, want); err != nil {
		t.Fatalf("SetLanguages: %v", err)
	}
	if l, err = s.Languages(ctx); err != nil || l.Default != "de" || !slices.Equal(l.Others, want.Others) {
		t.Fatalf("Languages() = %+v, %v; want %+v", l, err, want)
	}
	err = s.SetLanguages(ctx, recipes.Languages{Default: "de", Others: []string{"de", "fr-ca"}})
	for _, sub := range []string{`languages[0] "de" is the default language`, `languages[1] write the language tag "fr-ca" as "fr-CA"`} {
		if err == nil || !strings.Contains(err.Error(), sub) {
			t.Errorf("SetLanguages(bad) = %v; want a problem %q", err, sub)
		}
	}
	if l, _ := s.Languages(ctx); l.Default != "de" || !slices.Equal(l.Others, want.Others) {
		t.Fatalf("a refused SetLanguages changed the languages to %+v", l)
	}
}
