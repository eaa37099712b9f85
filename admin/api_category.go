package admin

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

func (s *Server) apiCategoryIndex(c echo.Context) error {
	cats, err := s.store.EditorCategories(c.Request().Context())
	return okJSON(c, list[recipes.CategoryInfo]{Items: cats}, err)
}

func (s *Server) apiCategoryCreate(c echo.Context) error {
	var in recipes.Category
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cat, err := s.store.CreateCategory(ctx, in)
	if err != nil {
		return err
	}
	info, err := s.store.EditorCategory(ctx, cat.Slug)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api"+categoryURL(cat.Slug))
	return c.JSON(http.StatusCreated, info)
}

func (s *Server) apiCategoryView(c echo.Context) error {
	cat, err := s.store.EditorCategory(c.Request().Context(), param(c, "slug"))
	return okJSON(c, cat, err)
}

func (s *Server) apiCategoryUpdate(c echo.Context) error {
	var u recipes.CategoryUpdate
	if err := bindJSON(c, &u); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.store.UpdateCategory(ctx, param(c, "slug"), u); err != nil {
		return err
	}
	return s.apiCategoryView(c)
}

func (s *Server) apiCategoryDelete(c echo.Context) error {
	how := recipes.CategoryRemoval{MoveTo: c.QueryParam("move_to")}
	if v := c.QueryParam("delete_recipes"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return recipes.Errorf(recipes.EINVALID, "delete_recipes must be true or false, not %q", v)
		}
		how.DeleteRecipes = b
	}
	n, err := s.store.RemoveCategory(c.Request().Context(), param(c, "slug"), how)
	if err != nil {
		return err
	}
	out := map[string]any{"deleted": param(c, "slug")}
	if how.MoveTo != "" {
		out["moved_recipes"] = n
	} else {
		out["deleted_recipes"] = n
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiCategoryOrder(c echo.Context) error {
	var in struct {
		Slugs []string `json:"slugs"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if err := s.store.ReorderCategories(c.Request().Context(), in.Slugs); err != nil {
		return err
	}
	return s.apiCategoryIndex(c)
}

func (s *Server) apiCategoryPublish(c echo.Context) error {
	pubd, err := s.store.PublishCategory(c.Request().Context(), param(c, "slug"))
	return okJSON(c, normalize(pubd), err)
}
