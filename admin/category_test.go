package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestAdminCategories(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	t.Run("Index", func(t *testing.T) {
		p := w.Get("/categories").Want(200).Has(t, "Soups", "Baby food", "Published")
		if !strings.Contains(p.Body, `<td class="num">13</td>`) {
			t.Error("recipe counts missing")
		}
		if w.Get("/").Want(303).Location != "/categories" {
			t.Error("/ does not lead to the categories")
		}
	})
	t.Run("CreateErrInvalid", func(t *testing.T) {
		w.Get("/categories/new").Want(200)
		tests := []struct {
			name, field, slug, cname, desc, want string
		}{
			{"BadSlug", "slug", "Bad Slug", "Bad", "", `"Bad Slug" must be lower-case letters, digits and single hyphens`},
			{"ReservedSlug", "slug", "categories", "Categories", "", `"categories" is reserved`},
			{"LongSlug", "slug", strings.Repeat("a", 49), "Long", "", "is 49 characters long; the limit is 48"},
			{"TakenSlug", "slug", "soups", "More soups", "", `"soups" is already taken by another category`},
			{"NoName", "name", "nameless", "", "", "is required"},
			{"LongName", "name", "long-name", strings.Repeat("n", 61), "", "is 61 characters long; the limit is 60"},
			{"ControlChars", "name", "ctl", "Bad\x01name", "", "contains control characters"},
			{"LongDescription", "description", "long-desc", "Long description", strings.Repeat("d", 501), "the limit is 500"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := w.Post("/categories/new", url.Values{"slug": {tt.slug}, "name": {tt.cname}, "description": {tt.desc}}).Want(422)
				if got := p.FieldError(tt.field); !strings.Contains(got, tt.want) {
					t.Errorf("error next to %s = %q, want %q", tt.field, got, tt.want)
				}
				if tt.cname != "" && !strings.Contains(p.Body, `value="`+strings.ReplaceAll(tt.cname, "\x01", "")) && tt.name != "ControlChars" {
					t.Error("the form forgot the name typed")
				}
				p.Has(t, "Please fix")
			})
		}
	})
	t.Run("CreateOK", func(t *testing.T) {
		p := w.Post("/categories/new", url.Values{"name": {"Salads & Bowls"}, "description": {"Fresh."}}).Want(303)
		if p.Location != "/categories/salads-bowls" {
			t.Fatalf("redirect to %q (slug from the name)", p.Location)
		}
		w.Get(p.Location).Want(200).Has(t, "Salads & Bowls", "Draft", "appliances do not see it yet")
		if r := s.MustAsk(t, "recipes/salads-bowls"); r.Status != 404 {
			t.Errorf("an unpublished category answered %d", r.Status)
		}
	})
	t.Run("Edit", func(t *testing.T) {
		w.Get("/categories/soups/edit").Want(200)
		p := w.Post("/categories/soups/edit", url.Values{"name": {""}, "description": {"kept"}}).Want(422)
		if p.FieldError("name") != "is required" || !strings.Contains(p.Body, ">kept</textarea>") {
			t.Errorf("error %q; form kept description: %v", p.FieldError("name"), strings.Contains(p.Body, ">kept</textarea>"))
		}
		w.Post("/categories/soups/edit", url.Values{"name": {"Soups & broths"}, "description": {"Hot."}}).Want(303)
		w.Get("/categories/soups").Want(200).Has(t, "Soups & broths", "Changed", "Category “Soups & broths” saved.")
		before := s.MustAsk(t, "recipes/categories")
		if !strings.Contains(string(before.Data), `"name":"Soups"`) {
			t.Fatalf("appliances see the rename before it is published: %s", before.Data)
		}
		w.Post("/categories/soups/publish", nil).Want(303)
		after := s.MustAsk(t, "recipes/categories")
		if !strings.Contains(string(after.Data), `"name":"Soups \u0026 broths"`) || after.ETag == before.ETag {
			t.Fatalf("after publishing: %s (etag %s, before %s)", after.Data, after.ETag, before.ETag)
		}
		w.Get("/categories/nope/edit").Want(404)
		w.Post("/categories/nope/edit", url.Values{"name": {"X"}}).Want(404)
	})
	t.Run("Reorder", func(t *testing.T) {
		w.Post("/categories/breads/move", url.Values{"direction": {"up"}}).Want(303)
		cats, _ := s.Store.EditorCategories(context.Background())
		var order []string
		for _, c := range cats {
			order = append(order, c.Slug)
		}
		i := strings.Index(strings.Join(order, ","), "breads,sauces")
		if i < 0 {
			t.Fatalf("breads did not move above sauces: %v", order)
		}
		r := s.MustAsk(t, "recipes/categories")
		if strings.Index(string(r.Data), `"slug":"breads"`) > strings.Index(string(r.Data), `"slug":"sauces"`) {
			t.Error("appliances do not see the new order")
		}
		w.Post("/categories/breads/move", url.Values{"direction": {"down"}}).Want(303)
		w.Post("/categories/nope/move", url.Values{"direction": {"down"}}).Want(404)
	})
	t.Run("SearchAndPaging", func(t *testing.T) {
		w.Get("/categories/soups?q=tomato").Want(200).Has(t, "Tomato soup with basil", "1 recipe matching “tomato”")
		w.Get("/categories/soups?q=zzz").Want(200).Has(t, "No recipe matches “zzz”.")
		for i := range 20 {
			r := testRecipe(fmt.Sprintf("extra-%02d", i), "soups", fmt.Sprintf("Zz extra soup %02d", i))
			if _, err := s.Store.CreateRecipe(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		p := w.Get("/categories/soups").Want(200).Has(t, "33 recipes", "page 1 of 2")
		if !strings.Contains(p.Body, `href="/categories/soups?page=2"`) {
			t.Fatal("no link to page 2")
		}
		w.Get("/categories/soups?page=2").Want(200).Has(t, "Zz extra soup 19", "page 2 of 2")
		w.Get("/categories/nope").Want(404).Has(t, `category "nope" not found`)
	})
	t.Run("Delete", func(t *testing.T) {
		w.Get("/categories/desserts/delete").Want(200).Has(t, "It holds 13 recipes", "Move them to", "Delete all 13 with the category", "cannot be undone")
		p := w.Post("/categories/desserts/delete", nil).Want(422)
		p.Has(t, `category "desserts" still holds 13 recipes; move them to another category or delete them with it`)
		p = w.Post("/categories/desserts/delete", url.Values{"recipes": {"move"}}).Want(422)
		if got := p.FieldError("move_to"); got != "choose the category to move to" {
			t.Errorf("move without target: %q", got)
		}
		p = w.Post("/categories/desserts/delete", url.Values{"recipes": {"move"}, "move_to": {"salads-bowls"}}).Want(422)
		p.Has(t, `category "salads-bowls" is not published yet`)
		p = w.Post("/categories/desserts/delete", url.Values{"recipes": {"move"}, "move_to": {"breads"}}).Want(303)
		w.Get(p.Location).Want(200).Has(t, "Category “desserts” deleted; its 13 recipes moved to “breads”.")
		if r := s.MustAsk(t, "recipes/breads/chocolate-mousse"); r.Status != 200 {
			t.Errorf("moved recipe: %v", r)
		}
		if r := s.MustAsk(t, "recipes/desserts"); r.Status != 404 {
			t.Errorf("deleted category answered %d", r.Status)
		}
		w.Post("/categories/sauces/delete", url.Values{"recipes": {"delete"}}).Want(303)
		if r := s.MustAsk(t, "recipes/sauces"); r.Status != 404 {
			t.Errorf("deleted category answered %d", r.Status)
		}
		w.Post("/categories/salads-bowls/delete", nil).Want(303)
		w.Get("/categories/nope/delete").Want(404)
		w.Post("/categories/nope/delete", nil).Want(404)
	})
}
