package admin

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// perPage is how many recipes a category page lists.
const perPage = 25

type categoryIndexPage struct {
	page
	Categories []categoryRow
	Pending    int // categories and recipes not yet published
}

type categoryRow struct {
	recipes.CategoryInfo
	First, Last bool
}

func (s *Server) handleCategoryIndex(c echo.Context) error {
	cats, err := s.store.EditorCategories(c.Request().Context())
	if err != nil {
		return err
	}
	p := categoryIndexPage{page: s.page(c, "Categories", "categories")}
	for i, cat := range cats {
		p.Categories = append(p.Categories, categoryRow{CategoryInfo: cat, First: i == 0, Last: i == len(cats)-1})
		p.Pending += cat.Pending
		if cat.Status != recipes.Published {
			p.Pending++
		}
	}
	return c.Render(http.StatusOK, "categories.html", p)
}

type categoryPage struct {
	page
	Category recipes.CategoryInfo
	Recipes  recipes.RecipePage
	Query    string
	PageNo   int // 1-based
	Pages    int
	PrevURL  string
	NextURL  string

	Schedule *scheduleCard // nil hides it (web/templates/part_schedule.html)
}

func (s *Server) handleCategoryView(c echo.Context) error {
	ctx := c.Request().Context()
	cat, err := s.store.EditorCategory(ctx, param(c, "slug"))
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	n, _ := strconv.Atoi(c.QueryParam("page"))
	n = max(n, 1)
	rp, err := s.store.EditorRecipes(ctx, cat.Slug, recipes.RecipeFilter{Text: q, Offset: (n - 1) * perPage, Limit: perPage})
	if err != nil {
		return err
	}
	p := categoryPage{page: s.page(c, cat.Name, "categories"), Category: cat, Recipes: rp, Query: q, PageNo: n,
		Pages: max(1, (rp.Total+perPage-1)/perPage)}
	if p.Schedule, err = s.scheduleCard(ctx, recipes.ScheduleCategory, cat.Slug, categoryURL(cat.Slug)+"/schedule",
		cat.Pending > 0 || cat.Status != recipes.Published); err != nil {
		return err
	}
	link := func(n int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return categoryURL(cat.Slug)
		}
		return categoryURL(cat.Slug) + "?" + v.Encode()
	}
	if n > 1 {
		p.PrevURL = link(min(n-1, p.Pages))
	}
	if n < p.Pages {
		p.NextURL = link(n + 1)
	}
	return c.Render(http.StatusOK, "category.html", p)
}

func categoryURL(slug string) string { return "/categories/" + url.PathEscape(slug) }

// categoryForm is what the category form holds, as typed.
type categoryForm struct {
	Slug        string
	Name        string
	Description string
}

type categoryFormPage struct {
	page
	New    bool
	Form   categoryForm
	Errors formErrors

	Translations *translationsCard // nil hides it (web/templates/part_translations.html)
}

func (s *Server) handleCategoryNew(c echo.Context) error {
	return c.Render(http.StatusOK, "category_form.html", categoryFormPage{page: s.page(c, "New category", "categories"), New: true})
}

func (s *Server) handleCategoryCreate(c echo.Context) error {
	f := categoryForm{
		Slug: strings.TrimSpace(c.FormValue("slug")), Name: strings.TrimSpace(c.FormValue("name")),
		Description: strings.TrimSpace(c.FormValue("description")),
	}
	if f.Slug == "" {
		f.Slug = slugify(f.Name)
	}
	cat, err := s.store.CreateCategory(c.Request().Context(), recipes.Category{Slug: f.Slug, Name: f.Name, Description: f.Description})
	if err != nil {
		p := categoryFormPage{page: s.page(c, "New category", "categories"), New: true, Form: f}
		if !p.Errors.addErr(err, nil) {
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "category_form.html", p)
	}
	s.flash(c, fmt.Sprintf("Category “%s” created. It is a draft: appliances will see it once you publish it.", cat.Name))
	return c.Redirect(http.StatusSeeOther, categoryURL(cat.Slug))
}

func (s *Server) handleCategoryEdit(c echo.Context) error {
	cat, err := s.store.EditorCategory(c.Request().Context(), param(c, "slug"))
	if err != nil {
		return err
	}
	l, err := s.store.Languages(c.Request().Context())
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "category_form.html", categoryFormPage{
		page:         s.page(c, "Edit "+cat.Name, "categories"),
		Form:         categoryForm{Slug: cat.Slug, Name: cat.Name, Description: cat.Description},
		Translations: newTranslationsCard(l, categoryURL(cat.Slug)+"/translations/", slices.Sorted(maps.Keys(cat.Translations))),
	})
}

func (s *Server) handleCategoryUpdate(c echo.Context) error {
	slug := param(c, "slug")
	f := categoryForm{Slug: slug, Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description"))}
	cat, err := s.store.UpdateCategory(c.Request().Context(), slug, recipes.CategoryUpdate{Name: &f.Name, Description: &f.Description})
	if err != nil {
		p := categoryFormPage{page: s.page(c, "Edit category", "categories"), Form: f}
		if !p.Errors.addErr(err, nil) {
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "category_form.html", p)
	}
	s.flash(c, fmt.Sprintf("Category “%s” saved.", cat.Name))
	return c.Redirect(http.StatusSeeOther, categoryURL(slug))
}

// handleCategoryMove moves a category one place up or down.
func (s *Server) handleCategoryMove(c echo.Context) error {
	ctx := c.Request().Context()
	slug := param(c, "slug")
	cats, err := s.store.EditorCategories(ctx)
	if err != nil {
		return err
	}
	order := make([]string, len(cats))
	for i, cat := range cats {
		order[i] = cat.Slug
	}
	i := slices.Index(order, slug)
	if i < 0 {
		return recipes.Errorf(recipes.ENOTFOUND, "category %q not found", slug)
	}
	j := i + 1
	if c.FormValue("direction") == "up" {
		j = i - 1
	}
	if j >= 0 && j < len(order) {
		order[i], order[j] = order[j], order[i]
		if err := s.store.ReorderCategories(ctx, order); err != nil {
			return err
		}
		s.flash(c, fmt.Sprintf("Moved “%s” %s. Appliances list categories in this order.", cats[i].Name, map[bool]string{true: "up", false: "down"}[j < i]))
	}
	return c.Redirect(http.StatusSeeOther, "/categories#cat-"+slug)
}

func (s *Server) handleCategoryPublish(c echo.Context) error {
	slug := param(c, "slug")
	pubd, err := s.store.PublishCategory(c.Request().Context(), slug)
	return s.flashPublished(c, categoryURL(slug), pubd, err)
}

// flashPublished reports, on the page at back, what a publish made
// visible, or the problem that stopped it.
func (s *Server) flashPublished(c echo.Context, back string, p recipes.Publication, err error) error {
	if err != nil {
		return s.flashError(c, err, back)
	}
	s.flash(c, publishedMessage(p))
	return c.Redirect(http.StatusSeeOther, back)
}

// publishedMessage says what a publish made visible.
func publishedMessage(p recipes.Publication) string {
	if p.Empty() {
		return "Nothing to publish: appliances already see the latest version."
	}
	var parts []string
	if n := len(p.Categories); n > 0 {
		parts = append(parts, plural(n, "category", "categories"))
	}
	if n := len(p.Recipes); n > 0 {
		parts = append(parts, plural(n, "recipe", "recipes"))
	}
	return "Published " + strings.Join(parts, " and ") + ". Appliances see the changes now."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

type categoryDeletePage struct {
	page
	Category recipes.CategoryInfo
	Others   []recipes.CategoryInfo
	Choice   string // "move" or "delete"
	MoveTo   string
	Errors   formErrors
}

func (s *Server) categoryDeletePage(c echo.Context, slug string) (categoryDeletePage, error) {
	cat, others, err := s.categoryAndOthers(c.Request().Context(), slug)
	if err != nil {
		return categoryDeletePage{}, err
	}
	return categoryDeletePage{page: s.page(c, "Delete "+cat.Name, "categories"), Category: cat, Others: others, Choice: "move"}, nil
}

// categoryAndOthers returns category slug and all the others, in order:
// what a page offers as places to move its recipes to. ENOTFOUND if there
// is no category slug.
func (s *Server) categoryAndOthers(ctx context.Context, slug string) (recipes.CategoryInfo, []recipes.CategoryInfo, error) {
	cats, err := s.store.EditorCategories(ctx)
	if err != nil {
		return recipes.CategoryInfo{}, nil, err
	}
	i := slices.IndexFunc(cats, func(cat recipes.CategoryInfo) bool { return cat.Slug == slug })
	if i < 0 {
		return recipes.CategoryInfo{}, nil, recipes.Errorf(recipes.ENOTFOUND, "category %q not found", slug)
	}
	cat := cats[i]
	return cat, slices.Delete(cats, i, i+1), nil
}

func (s *Server) handleCategoryDeleteForm(c echo.Context) error {
	p, err := s.categoryDeletePage(c, param(c, "slug"))
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "category_delete.html", p)
}

func (s *Server) handleCategoryDelete(c echo.Context) error {
	slug := param(c, "slug")
	how := recipes.CategoryRemoval{}
	choice := c.FormValue("recipes")
	switch choice {
	case "move":
		how.MoveTo = c.FormValue("move_to")
	case "delete":
		how.DeleteRecipes = true
	}
	n, err := 0, error(nil)
	if choice == "move" && how.MoveTo == "" {
		err = &recipes.ValidationError{Kind: "category", ID: slug, Fields: []recipes.FieldError{{Field: "move_to", Message: "choose the category to move to"}}}
	} else {
		n, err = s.store.RemoveCategory(c.Request().Context(), slug, how)
	}
	if err != nil {
		p, perr := s.categoryDeletePage(c, slug)
		if perr != nil {
			return perr
		}
		p.Choice, p.MoveTo = choice, how.MoveTo
		if !p.Errors.addErr(err, nil) {
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "category_delete.html", p)
	}
	msg := fmt.Sprintf("Category “%s” deleted.", slug)
	switch {
	case n > 0 && how.MoveTo != "":
		msg = fmt.Sprintf("Category “%s” deleted; its %s moved to “%s”.", slug, plural(n, "recipe", "recipes"), how.MoveTo)
	case n > 0:
		msg = fmt.Sprintf("Category “%s” and its %s deleted.", slug, plural(n, "recipe", "recipes"))
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/categories")
}
