package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/web"
)

// The JSON API mirrors the UI for automation. It is authenticated with API
// tokens (Authorization: Bearer …), never with the session cookie, so it
// needs no CSRF token. web/static/openapi.json documents it.

// requireToken lets requests with a valid API token through.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, secret, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "Send an API token: Authorization: Bearer <token>.").SetInternal(errNoToken)
		}
		tok, err := s.store.APIToken(c.Request().Context(), strings.TrimSpace(secret))
		switch {
		case recipes.ErrorCode(err) == recipes.ENOTFOUND:
			return echo.NewHTTPError(http.StatusUnauthorized, "The API token is not valid (revoked, or never issued).").SetInternal(errNoToken)
		case err != nil:
			return err
		}
		c.Set(staffKey, "token:"+tok.Name)
		c.Set(tokenKey, tok)
		return next(c)
	}
}

// errNoToken is the answer to an API request without a valid token.
var errNoToken = errors.New("admin: no valid API token")

// tokenKey holds the request's API token in the echo.Context.
const tokenKey = "api-token"

// requireScope lets through requests whose API token has scope.
func requireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, _ := c.Get(tokenKey).(recipes.APIToken)
			if !tok.Allows(scope) {
				return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf(
					"The API token %q may not do this: it needs the %q scope and has %s. Create a token with that scope under API tokens.",
					tok.Name, scope, strings.Join(tok.Allowed(), ", ")))
			}
			return next(c)
		}
	}
}

func (s *Server) handleOpenAPI(c echo.Context) error {
	b, err := web.FS.ReadFile("static/openapi.json")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSONBlob(http.StatusOK, b)
}

// bindJSON decodes the request body into v.
func bindJSON(c echo.Context, v any) error { return decodeJSON(c, v, false) }

func decodeJSON(c echo.Context, v any, strict bool) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(c.Request().Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return recipes.Errorf(recipes.EINVALID, "the body is not the JSON expected: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); strict && err != io.EOF {
		return recipes.Errorf(recipes.EINVALID, "the body is not the JSON expected: there is more after the object")
	}
	return nil
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return "field " + strconv.Quote(te.Field) + " has the wrong type"
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case err.Error() == "EOF":
		return "it is empty"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "it has the unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "it cannot be decoded"
}

// okJSON answers v with 200 OK, or returns err, when there is one, for
// the error handler.
func okJSON(c echo.Context, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type list[T any] struct {
	Items []T `json:"items"`
}

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

func queryInt(c echo.Context, name string, def, lo, hi int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, recipes.Errorf(recipes.EINVALID, "%s must be a whole number between %d and %d, not %q", name, lo, hi, v)
	}
	return n, nil
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

// normalize makes empty lists [] rather than null in JSON.
func normalize(p recipes.Publication) recipes.Publication {
	if p.Categories == nil {
		p.Categories = []string{}
	}
	if p.Recipes == nil {
		p.Recipes = []string{}
	}
	return p
}
