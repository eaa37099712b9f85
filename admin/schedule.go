package admin

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Schedules keeps the publishes editors set to happen at a time; every
// node fires them as they come due.
type Schedules interface {
	// Schedule sets the pending changes of a recipe or category (kind
	// recipes.ScheduleRecipe or ScheduleCategory) to publish at at,
	// replacing any time set before; EINVALID for a time not in the
	// future or nothing to publish, ENOTFOUND for no such item.
	Schedule(ctx context.Context, kind, id string, at time.Time) error
	// Unschedule cancels it; ENOTFOUND if none is scheduled.
	Unschedule(ctx context.Context, kind, id string) error
	// Scheduled returns every scheduled publish, the soonest first.
	Scheduled(ctx context.Context) ([]recipes.ScheduledPublish, error)
	// ScheduleOutcomes returns the latest fired ones, newest first, each
	// with what it published or why it failed.
	ScheduleOutcomes(ctx context.Context) ([]recipes.ScheduledPublish, error)
}

// scheduleCard is the schedule card of a recipe or category page: what
// is scheduled, the form to schedule (when there is something to
// publish) and how the last scheduled publish of the item went.
type scheduleCard struct {
	Kind, ID string
	Action   string // URL of the schedule form; Action+"/cancel" cancels
	Pending  bool   // something to publish: the form is shown
	Entry    *recipes.ScheduledPublish
	Last     *recipes.ScheduledPublish // the item's latest fired one
}

// scheduleCard builds the card of item kind id at action.
func (s *Server) scheduleCard(ctx context.Context, kind, id, action string, pending bool) (*scheduleCard, error) {
	card := &scheduleCard{Kind: kind, ID: id, Action: action, Pending: pending}
	all, err := s.store.Scheduled(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Kind == kind && all[i].ID == id {
			card.Entry = &all[i]
		}
	}
	outs, err := s.store.ScheduleOutcomes(ctx)
	if err != nil {
		return nil, err
	}
	for i := range outs {
		if outs[i].Kind == kind && outs[i].ID == id {
			card.Last = &outs[i]
			break
		}
	}
	return card, nil
}

// datetimeLocal is the format of an <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

// scheduleTime reads the schedule form's time: at_utc, which app.js
// fills with the RFC 3339 UTC form of what the editor picked in their
// browser's time zone, or else at as typed, read as UTC (the form says
// so when JavaScript is off).
func scheduleTime(c echo.Context) (time.Time, error) {
	if v := strings.TrimSpace(c.FormValue("at_utc")); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, recipes.Errorf(recipes.EINVALID, "at: %q is not an RFC 3339 time", v)
		}
		return t, nil
	}
	v := strings.TrimSpace(c.FormValue("at"))
	if v == "" {
		return time.Time{}, recipes.Errorf(recipes.EINVALID, "at: pick a date and time to publish at")
	}
	t, err := time.ParseInLocation(datetimeLocal, v, time.UTC)
	if err != nil {
		return time.Time{}, recipes.Errorf(recipes.EINVALID, "at: %q is not a date and time like 2030-01-31T09:30", v)
	}
	return t, nil
}

func (s *Server) handleRecipeSchedule(c echo.Context) error {
	return s.schedule(c, recipes.ScheduleRecipe, param(c, "id"), recipeURL(param(c, "id")))
}

func (s *Server) handleRecipeUnschedule(c echo.Context) error {
	return s.unschedule(c, recipes.ScheduleRecipe, param(c, "id"), recipeURL(param(c, "id")))
}

func (s *Server) handleCategorySchedule(c echo.Context) error {
	return s.schedule(c, recipes.ScheduleCategory, param(c, "slug"), categoryURL(param(c, "slug")))
}

func (s *Server) handleCategoryUnschedule(c echo.Context) error {
	return s.unschedule(c, recipes.ScheduleCategory, param(c, "slug"), categoryURL(param(c, "slug")))
}

// schedule handles a schedule form and goes back to the item's page,
// with what was scheduled or what is wrong.
func (s *Server) schedule(c echo.Context, kind, id, back string) error {
	at, err := scheduleTime(c)
	if err == nil {
		err = s.store.Schedule(c.Request().Context(), kind, id, at)
	}
	if err != nil {
		return s.flashError(c, err, back)
	}
	s.flash(c, "Scheduled: appliances will see the changes at "+at.UTC().Format(shownTime)+".")
	return c.Redirect(http.StatusSeeOther, back)
}

// shownTime is how a page shows a time before app.js puts it in the
// browser's time zone.
const shownTime = "2006-01-02 15:04 UTC"

func (s *Server) unschedule(c echo.Context, kind, id, back string) error {
	if err := s.store.Unschedule(c.Request().Context(), kind, id); err != nil {
		if recipes.ErrorCode(err) == recipes.ENOTFOUND {
			// Fired or cancelled meanwhile: say so where the editor is.
			s.flash(c, warnPrefix+recipes.ErrorMessage(err)+" (it may have just been published).")
			return c.Redirect(http.StatusSeeOther, back)
		}
		return err
	}
	s.flash(c, "Scheduled publish cancelled. The changes stay unpublished.")
	return c.Redirect(http.StatusSeeOther, back)
}

type scheduledPage struct {
	page
	Entries  []recipes.ScheduledPublish
	Outcomes []recipes.ScheduledPublish
}

func (s *Server) handleScheduledIndex(c echo.Context) error {
	ctx := c.Request().Context()
	p := scheduledPage{page: s.page(c, "Scheduled publishes", "categories")}
	var err error
	if p.Entries, err = s.store.Scheduled(ctx); err != nil {
		return err
	}
	if p.Outcomes, err = s.store.ScheduleOutcomes(ctx); err != nil {
		return err
	}
	return c.Render(http.StatusOK, "scheduled.html", p)
}

// handleScheduledCancel cancels one from the /scheduled page.
func (s *Server) handleScheduledCancel(c echo.Context) error {
	kind := c.FormValue("kind")
	if err := recipes.ValidateScheduleKind(kind); err != nil {
		return s.flashError(c, err, "/scheduled")
	}
	return s.unschedule(c, kind, c.FormValue("id"), "/scheduled")
}

// scheduleRequest is the body of POST /api/…/schedule.
type scheduleRequest struct {
	At string `json:"at"` // RFC 3339
}

func (s *Server) apiRecipeSchedule(c echo.Context) error {
	return s.apiSchedule(c, recipes.ScheduleRecipe, param(c, "id"))
}

func (s *Server) apiRecipeUnschedule(c echo.Context) error {
	return s.apiUnschedule(c, recipes.ScheduleRecipe, param(c, "id"))
}

func (s *Server) apiCategorySchedule(c echo.Context) error {
	return s.apiSchedule(c, recipes.ScheduleCategory, param(c, "slug"))
}

func (s *Server) apiCategoryUnschedule(c echo.Context) error {
	return s.apiUnschedule(c, recipes.ScheduleCategory, param(c, "slug"))
}

func (s *Server) apiSchedule(c echo.Context, kind, id string) error {
	var req scheduleRequest
	if err := bindStrictJSON(c, &req); err != nil {
		return err
	}
	if req.At == "" {
		return recipes.Errorf(recipes.EINVALID, "at: required, an RFC 3339 time like 2030-01-31T09:30:00Z")
	}
	at, err := time.Parse(time.RFC3339, req.At)
	if err != nil {
		return recipes.Errorf(recipes.EINVALID, "at: %q is not an RFC 3339 time like 2030-01-31T09:30:00Z", req.At)
	}
	ctx := c.Request().Context()
	if err := s.store.Schedule(ctx, kind, id, at); err != nil {
		return err
	}
	all, err := s.store.Scheduled(ctx)
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.Kind == kind && e.ID == id {
			return c.JSON(http.StatusOK, e)
		}
	}
	// Fired already (a time a moment ahead), or cancelled meanwhile.
	return recipes.Errorf(recipes.ECONFLICT, "the publish of %s %q was scheduled but is no longer pending", kind, id)
}

func (s *Server) apiUnschedule(c echo.Context, kind, id string) error {
	if err := s.store.Unschedule(c.Request().Context(), kind, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// scheduledList is the body of GET /api/scheduled.
type scheduledList struct {
	Items    []recipes.ScheduledPublish `json:"items"`
	Outcomes []recipes.ScheduledPublish `json:"outcomes"`
}

func (s *Server) apiScheduledIndex(c echo.Context) error {
	ctx := c.Request().Context()
	items, err := s.store.Scheduled(ctx)
	if err != nil {
		return err
	}
	outs, err := s.store.ScheduleOutcomes(ctx)
	if err != nil {
		return err
	}
	l := scheduledList{Items: items, Outcomes: outs}
	if l.Items == nil {
		l.Items = []recipes.ScheduledPublish{}
	}
	if l.Outcomes == nil {
		l.Outcomes = []recipes.ScheduledPublish{}
	}
	return c.JSON(http.StatusOK, l)
}
