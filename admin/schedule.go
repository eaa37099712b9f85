package admin

// scheduleCard is the schedule card of a page.
type scheduleCard struct{}
