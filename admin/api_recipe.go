package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

func (s *Server) apiRecipeIndex(c echo.Context) error {
	f := recipes.RecipeFilter{Text: c.QueryParam("q")}
	var err error
	if f.Offset, err = queryInt(c, "offset", 0, 0, 1<<30); err != nil {
		return err
	}
	if f.Limit, err = queryInt(c, "limit", recipes.DefaultLimit, 1, recipes.MaxLimit); err != nil {
		return err
	}
	page, err := s.store.EditorRecipes(c.Request().Context(), param(c, "slug"), f)
	if err != nil {
		return err
	}
	if page.Items == nil {
		page.Items = []recipes.RecipeInfo{}
	}
	return c.JSON(http.StatusOK, page)
}

// apiRecipe is a recipe as the API returns it: the editors' copy and its
// status.
type apiRecipe struct {
	recipes.Recipe
	Status recipes.Status `json:"status"`
}

func (s *Server) apiRecipeView(c echo.Context) error {
	return s.sendRecipe(c, http.StatusOK, param(c, "id"))
}

func (s *Server) sendRecipe(c echo.Context, status int, id string) error {
	r, st, err := s.store.EditorRecipe(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(status, apiRecipe{Recipe: r, Status: st})
}

func (s *Server) apiRecipeCreate(c echo.Context) error {
	var r recipes.Recipe
	if err := bindJSON(c, &r); err != nil {
		return err
	}
	saved, err := s.store.CreateRecipe(c.Request().Context(), r)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api"+recipeURL(saved.ID))
	return s.sendRecipe(c, http.StatusCreated, saved.ID)
}

func (s *Server) apiRecipeSave(c echo.Context) error {
	var r recipes.Recipe
	if err := bindJSON(c, &r); err != nil {
		return err
	}
	id := param(c, "id")
	if r.ID != "" && r.ID != id {
		return recipes.Errorf(recipes.EINVALID, "the body's id %q differs from the URL's %q", r.ID, id)
	}
	r.ID = id
	if r.Category == "" {
		cur, _, err := s.store.EditorRecipe(c.Request().Context(), id)
		if err != nil {
			return err
		}
		r.Category = cur.Category
	}
	if _, err := s.store.SaveRecipe(c.Request().Context(), r); err != nil {
		return err
	}
	return s.sendRecipe(c, http.StatusOK, id)
}

func (s *Server) apiRecipeDelete(c echo.Context) error {
	if err := s.store.RemoveRecipe(c.Request().Context(), param(c, "id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiRecipeMove(c echo.Context) error {
	var in struct {
		Category string `json:"category"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if err := s.store.MoveRecipe(c.Request().Context(), param(c, "id"), in.Category); err != nil {
		return err
	}
	return s.sendRecipe(c, http.StatusOK, param(c, "id"))
}

func (s *Server) apiRecipePublish(c echo.Context) error {
	pubd, err := s.store.PublishRecipe(c.Request().Context(), param(c, "id"))
	return okJSON(c, normalize(pubd), err)
}

func (s *Server) apiRecipeDiscard(c echo.Context) error {
	if err := s.store.DiscardRecipe(c.Request().Context(), param(c, "id")); err != nil {
		return err
	}
	return s.sendRecipe(c, http.StatusOK, param(c, "id"))
}
