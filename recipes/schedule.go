package recipes

import "time"

// Kinds of [ScheduledPublish]: what a scheduled publish publishes.
const (
	ScheduleRecipe   = "recipe"   // the recipe's draft, as its Publish does
	ScheduleCategory = "category" // the category's draft and its recipes' drafts, as its Publish does
)

// SchedulerActor is who makes a scheduled publish: revisions and the audit
// log show it, and the entry keeps who scheduled it ([ScheduledPublish.By]).
var SchedulerActor = Actor{Kind: ActorSystem, Name: "scheduler"}

// ScheduledPublish is a publish set to happen at a time, or, with Outcome,
// one that happened.
type ScheduledPublish struct {
	Kind        string    `json:"kind"` // ScheduleRecipe or ScheduleCategory
	ID          string    `json:"id"`   // recipe id or category slug
	At          time.Time `json:"at"`   // when it is due
	By          Actor     `json:"by"`   // who scheduled it
	ScheduledAt time.Time `json:"scheduled_at"`

	// Outcome is set once it fired: what it published, or why not.
	Outcome *ScheduleOutcome `json:"outcome,omitempty"`
}

// ScheduleOutcome is what a scheduled publish did when it came due.
type ScheduleOutcome struct {
	FiredAt   time.Time   `json:"fired_at"`
	Published Publication `json:"published"`
	// Error is why it published nothing, for the editors (a draft
	// discarded, a recipe deleted, a draft no longer valid); empty when
	// it published.
	Error string `json:"error,omitempty"`
}

// Failed reports whether the publish did not happen.
func (o *ScheduleOutcome) Failed() bool { return o != nil && o.Error != "" }

// ValidateScheduleKind returns EINVALID unless kind is one of the
// Schedule… kinds.
func ValidateScheduleKind(kind string) error {
	if kind != ScheduleRecipe && kind != ScheduleCategory {
		return Errorf(EINVALID, "kind %q: must be %q or %q", kind, ScheduleRecipe, ScheduleCategory)
	}
	return nil
}
