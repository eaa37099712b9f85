package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Revisions is the revision history of the catalog store (see
// catalog/revision.go); [Catalog] embeds it.
type Revisions interface {
	// Revisions returns the kept revisions of a recipe or category
	// (recipes.RevisionRecipe or RevisionCategory), newest first;
	// ENOTFOUND if there is neither item nor history.
	Revisions(ctx context.Context, kind, id string) ([]recipes.Revision, error)
	// Revision returns one revision; ENOTFOUND if it is not kept.
	Revision(ctx context.Context, kind, id string, n int64) (recipes.Revision, error)
	// RestoreRecipe saves revision n's snapshot as the recipe's draft (a
	// deleted recipe comes back unpublished); ENOTFOUND, or the
	// *recipes.ValidationError.
	RestoreRecipe(ctx context.Context, id string, n int64) (recipes.Recipe, error)
}

// historyCardSize is how many revisions the recipe page's card lists.
const historyCardSize = 5

// historyCard is the history card of a page: the newest revisions, each
// with a link to what it changed.
type historyCard struct {
	URL   string // the full history page
	Items []historyItem
	More  bool // there are older revisions than Items
}

// historyItem is one revision as the card and the history page list it.
type historyItem struct {
	N       int64
	Time    time.Time
	Who     string // "alice", "token importer", "CLI ops"
	Action  string
	From    int64
	Changed []string
	// DiffURL shows what it changed against the revision before it,
	// when that is kept.
	DiffURL string
	Current bool // the newest: restoring it changes nothing
}

func historyItems(id string, revs []recipes.Revision) []historyItem {
	out := make([]historyItem, len(revs))
	for i, r := range revs {
		it := historyItem{N: r.N, Time: r.Time, Who: actorLabel(r.Actor), Action: r.Action, From: r.From, Changed: r.Changed, Current: i == 0}
		if i+1 < len(revs) {
			it.DiffURL = diffURL(id, revs[i+1].N, r.N)
		}
		out[i] = it
	}
	return out
}

func diffURL(id string, from, to int64) string {
	return fmt.Sprintf("%s/diff?from=%d&to=%d", recipeURL(id), from, to)
}

// actorLabel is who made a change, as editors read it.
func actorLabel(a recipes.Actor) string {
	switch a.Kind {
	case recipes.ActorStaff:
		return a.Name
	case recipes.ActorToken:
		return "API token " + a.Name
	case recipes.ActorCLI:
		return "command line (" + a.Name + ")"
	}
	if a.Name == "" {
		return "recipesd"
	}
	return "recipesd (" + a.Name + ")"
}

// recipeHistoryCard builds the recipe page's history card.
func (s *Server) recipeHistoryCard(ctx context.Context, id string) (*historyCard, error) {
	revs, err := s.store.Revisions(ctx, recipes.RevisionRecipe, id)
	if err != nil {
		return nil, err
	}
	card := &historyCard{URL: recipeURL(id) + "/history", Items: historyItems(id, revs)}
	if len(card.Items) > historyCardSize {
		card.Items, card.More = card.Items[:historyCardSize], true
	}
	return card, nil
}

// historyPage lists every kept revision of a recipe, with forms to
// restore one and to compare two.
type historyPage struct {
	page
	ID      string
	Name    string // the title of the newest revision
	Deleted bool   // the newest revision deleted it
	Items   []historyItem
}

func (s *Server) handleRecipeHistory(c echo.Context) error {
	id := param(c, "id")
	revs, err := s.store.Revisions(c.Request().Context(), recipes.RevisionRecipe, id)
	if err != nil {
		return err
	}
	p := historyPage{ID: id, Name: id, Items: historyItems(id, revs)}
	if len(revs) > 0 {
		if r := revs[0].Recipe; r != nil {
			p.Name = r.Title
		}
		p.Deleted = revs[0].Action == recipes.RevDeleted
	}
	p.page = s.page(c, "History of "+p.Name, "categories")
	return c.Render(http.StatusOK, "recipe_revisions.html", p)
}

// diffPage shows what changed from one revision to another.
type diffPage struct {
	page
	ID       string
	From, To recipes.Revision
	FromWho  string
	ToWho    string
	Fields   []recipes.FieldDiff
}

func (s *Server) handleRecipeDiff(c echo.Context) error {
	ctx := c.Request().Context()
	id := param(c, "id")
	from, err := revisionNumber(c.QueryParam("from"), "from")
	if err != nil {
		return err
	}
	to, err := revisionNumber(c.QueryParam("to"), "to")
	if err != nil {
		return err
	}
	p := diffPage{ID: id}
	if p.From, err = s.store.Revision(ctx, recipes.RevisionRecipe, id, from); err != nil {
		return err
	}
	if p.To, err = s.store.Revision(ctx, recipes.RevisionRecipe, id, to); err != nil {
		return err
	}
	if p.From.Recipe == nil || p.To.Recipe == nil {
		return recipes.Errorf(recipes.EINVALID, "revisions %d and %d of %q are not both recipes", from, to, id)
	}
	p.FromWho, p.ToWho = actorLabel(p.From.Actor), actorLabel(p.To.Actor)
	p.Fields = recipes.DiffRecipes(*p.From.Recipe, *p.To.Recipe)
	p.page = s.page(c, fmt.Sprintf("%s: #%d → #%d", p.To.Recipe.Title, from, to), "categories")
	return c.Render(http.StatusOK, "recipe_diff.html", p)
}

func (s *Server) handleRecipeRestore(c echo.Context) error {
	id := param(c, "id")
	n, err := revisionNumber(c.FormValue("n"), "n")
	if err != nil {
		return s.flashError(c, err, recipeURL(id)+"/history")
	}
	r, err := s.store.RestoreRecipe(c.Request().Context(), id, n)
	if err != nil {
		return s.flashError(c, err, recipeURL(id)+"/history")
	}
	s.flash(c, fmt.Sprintf("Restored revision #%d of “%s” as the draft. Appliances will see it once you publish it.", n, r.Title))
	return c.Redirect(http.StatusSeeOther, recipeURL(id))
}

// revisionNumber parses a revision number given as name.
func revisionNumber(v, name string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, recipes.Errorf(recipes.EINVALID, "%s must be a revision number (1 or more), not %q", name, v)
	}
	return n, nil
}

// apiRevision is a revision as the API lists it: without its snapshot,
// which GET …/revisions/:n returns.
type apiRevision struct {
	N       int64         `json:"n"`
	Time    time.Time     `json:"time"`
	Actor   recipes.Actor `json:"actor"`
	Action  string        `json:"action"`
	From    int64         `json:"from,omitempty"`
	Changed []string      `json:"changed"`
}

func (s *Server) apiRecipeRevisions(c echo.Context) error {
	revs, err := s.store.Revisions(c.Request().Context(), recipes.RevisionRecipe, param(c, "id"))
	if err != nil {
		return err
	}
	out := make([]apiRevision, len(revs))
	for i, r := range revs {
		out[i] = apiRevision{N: r.N, Time: r.Time, Actor: r.Actor, Action: r.Action, From: r.From, Changed: r.Changed}
		if out[i].Changed == nil {
			out[i].Changed = []string{}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"revisions": out})
}

func (s *Server) apiRecipeRevision(c echo.Context) error {
	n, err := revisionNumber(param(c, "n"), "n")
	if err != nil {
		return err
	}
	rev, err := s.store.Revision(c.Request().Context(), recipes.RevisionRecipe, param(c, "id"), n)
	if err != nil {
		return err
	}
	if rev.Changed == nil {
		rev.Changed = []string{}
	}
	return c.JSON(http.StatusOK, rev)
}
