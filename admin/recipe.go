package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

type recipeFormPage struct {
	page
	New        bool
	Category   recipes.CategoryInfo
	Status     recipes.Status
	UpdatedAt  time.Time
	Form       recipeForm
	Errors     formErrors
	Categories []recipes.CategoryInfo // where it may move

	// CanSend shows "Send to appliance" (when the server can command
	// appliances), listing the connected Appliances.
	CanSend    bool
	Appliances []string

	Units        []string
	Models       []string
	Difficulties []recipes.Difficulty

	// Cards of the editors' workflow, each built in its own file and
	// shown by its own template (web/templates/part_*.html); nil hides it.
	Translations *translationsCard
	Preview      *previewCard
	History      *historyCard
	Schedule     *scheduleCard
}

func recipeURL(id string) string { return "/recipes/" + url.PathEscape(id) }

// recipePage builds the recipe form page for a recipe in category slug.
func (s *Server) recipePage(c echo.Context, title, slug string, f recipeForm) (recipeFormPage, error) {
	cat, others, err := s.categoryAndOthers(c.Request().Context(), slug)
	if err != nil {
		return recipeFormPage{}, err
	}
	return recipeFormPage{
		page: s.page(c, title, "categories"), Form: f, Category: cat, Categories: others,
		Units: recipes.Units, Models: recipes.Models, Difficulties: []recipes.Difficulty{recipes.Easy, recipes.Medium, recipes.Hard},
	}, nil
}

func (s *Server) handleRecipeNew(c echo.Context) error {
	slug := param(c, "slug")
	p, err := s.recipePage(c, "New recipe", slug, newRecipeForm(slug))
	if err != nil {
		return err
	}
	p.New = true
	return c.Render(http.StatusOK, "recipe_form.html", p)
}

func (s *Server) handleRecipeCreate(c echo.Context) error {
	slug := param(c, "slug")
	v, err := c.FormParams()
	if err != nil {
		return err
	}
	f := parseRecipeForm(v)
	f.Category = slug
	if f.ID == "" {
		f.ID = slugify(f.Title)
	}
	return s.submitRecipe(c, f, true, func(ctx context.Context, r recipes.Recipe, _ recipeForm) (recipes.Recipe, error) {
		return s.store.CreateRecipe(ctx, r)
	})
}

func (s *Server) handleRecipeEdit(c echo.Context) error {
	r, status, err := s.store.EditorRecipe(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	p, err := s.recipePage(c, r.Title, r.Category, formFromRecipe(r))
	if err != nil {
		return err
	}
	p.Status, p.UpdatedAt = status, r.UpdatedAt
	if p.Schedule, err = s.scheduleCard(c.Request().Context(), recipes.ScheduleRecipe, r.ID, recipeURL(r.ID)+"/schedule", status != recipes.Published); err != nil {
		return err
	}
	if p.Translations, err = s.recipeTranslationsCard(c.Request().Context(), r); err != nil {
		return err
	}
	if p.Preview, err = s.previewCard(c, r, status); err != nil {
		return err
	}
	if p.History, err = s.recipeHistoryCard(c.Request().Context(), r.ID); err != nil {
		return err
	}
	if s.opts.Appliances != nil && isAdmin(c) { // commands to appliances are admins' (see pages)
		if p.Appliances, err = s.connectedDevices(c.Request().Context()); err != nil {
			return err
		}
		p.CanSend = true
	}
	return c.Render(http.StatusOK, "recipe_form.html", p)
}

func (s *Server) handleRecipeSave(c echo.Context) error {
	cur, _, err := s.store.EditorRecipe(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	v, err := c.FormParams()
	if err != nil {
		return err
	}
	f := parseRecipeForm(v)
	f.ID, f.Category = cur.ID, cur.Category
	return s.submitRecipe(c, f, false, func(ctx context.Context, r recipes.Recipe, f recipeForm) (recipes.Recipe, error) {
		carryTranslations(cur, f, &r)
		return s.store.SaveRecipe(ctx, r)
	})
}

// submitRecipe handles a posted recipe form: a row operation re-shows the
// form, anything else saves it through save, or shows every problem next
// to its field.
func (s *Server) submitRecipe(c echo.Context, f recipeForm, isNew bool, save func(context.Context, recipes.Recipe, recipeForm) (recipes.Recipe, error)) error {
	ctx := c.Request().Context()
	show := func(status int, errs formErrors) error {
		title := "New recipe"
		if !isNew {
			title = f.Title
		}
		p, err := s.recipePage(c, title, f.Category, f)
		if err != nil {
			return err
		}
		p.New, p.Errors = isNew, errs
		if !isNew {
			_, p.Status, _ = s.store.EditorRecipe(ctx, f.ID)
		}
		return c.Render(status, "recipe_form.html", p)
	}
	if f.apply(c.FormValue("op")) {
		return show(http.StatusOK, formErrors{})
	}
	r, errs := f.recipe()
	if errs.Any() {
		return show(http.StatusUnprocessableEntity, errs)
	}
	saved, err := save(ctx, r, f)
	if err != nil {
		if !errs.addErr(err, placeRecipeField) {
			return err
		}
		return show(http.StatusUnprocessableEntity, errs)
	}
	if c.FormValue("op") == "publish" {
		pubd, err := s.store.PublishRecipe(ctx, saved.ID)
		if err != nil {
			return s.flashError(c, err, recipeURL(saved.ID))
		}
		s.flash(c, fmt.Sprintf("Saved “%s”. %s", saved.Title, publishedMessage(pubd)))
		return c.Redirect(http.StatusSeeOther, recipeURL(saved.ID))
	}
	_, status, err := s.store.EditorRecipe(ctx, saved.ID)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Saved “%s” as a draft. Appliances will see it once you publish it.", saved.Title)
	if status == recipes.Published {
		msg = fmt.Sprintf("Saved “%s”; it matches what appliances see.", saved.Title)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, recipeURL(saved.ID))
}

func (s *Server) handleRecipePublish(c echo.Context) error {
	id := param(c, "id")
	pubd, err := s.store.PublishRecipe(c.Request().Context(), id)
	return s.flashPublished(c, recipeURL(id), pubd, err)
}

func (s *Server) handleRecipeDiscardForm(c echo.Context) error {
	r, _, err := s.store.EditorRecipe(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "confirm.html", confirmPage{
		page:    s.page(c, "Discard changes to "+r.Title, "categories"),
		Heading: fmt.Sprintf("Discard your changes to “%s”?", r.Title),
		Message: "The recipe goes back to the version appliances see. The unpublished changes cannot be recovered.",
		Action:  recipeURL(r.ID) + "/discard", Button: "Discard changes", Cancel: recipeURL(r.ID),
	})
}

func (s *Server) handleRecipeDiscard(c echo.Context) error {
	id := param(c, "id")
	if err := s.store.DiscardRecipe(c.Request().Context(), id); err != nil {
		return s.flashError(c, err, recipeURL(id))
	}
	s.flash(c, "Changes discarded: the recipe is back to what appliances see.")
	return c.Redirect(http.StatusSeeOther, recipeURL(id))
}

func (s *Server) handleRecipeMove(c echo.Context) error {
	id, to := param(c, "id"), c.FormValue("move_to")
	if err := s.store.MoveRecipe(c.Request().Context(), id, to); err != nil {
		return s.flashError(c, err, recipeURL(id))
	}
	cat, err := s.store.EditorCategory(c.Request().Context(), to)
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Moved to “%s”.", cat.Name))
	return c.Redirect(http.StatusSeeOther, recipeURL(id))
}

func (s *Server) handleRecipeDeleteForm(c echo.Context) error {
	r, status, err := s.store.EditorRecipe(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	msg := "Appliances will no longer find it. This cannot be undone."
	if status == recipes.Unpublished {
		msg = "It was never published. This cannot be undone."
	}
	return c.Render(http.StatusOK, "confirm.html", confirmPage{
		page:    s.page(c, "Delete "+r.Title, "categories"),
		Heading: fmt.Sprintf("Delete the recipe “%s”?", r.Title), Message: msg,
		Action: recipeURL(r.ID) + "/delete", Button: "Delete recipe", Cancel: recipeURL(r.ID),
	})
}

func (s *Server) handleRecipeDelete(c echo.Context) error {
	ctx := c.Request().Context()
	r, _, err := s.store.EditorRecipe(ctx, param(c, "id"))
	if err != nil {
		return err
	}
	if err := s.store.RemoveRecipe(ctx, r.ID); err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Recipe “%s” deleted.", r.Title))
	return c.Redirect(http.StatusSeeOther, categoryURL(r.Category))
}
