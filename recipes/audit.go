package recipes

import "time"

// AuditEntry is one line of the audit log: who did what to what, when,
// and how it ended. It never holds a secret: no password, device secret,
// token secret, session id or request body.
type AuditEntry struct {
	ID      string    `json:"id"` // the log's own id; newer entries have greater ids
	Time    time.Time `json:"time"`
	Actor   Actor     `json:"actor"`
	Action  string    `json:"action"`           // e.g. "POST /recipes/:id/publish", "cli device add"
	Target  string    `json:"target,omitempty"` // what it acted on, e.g. "id=pasta"
	Outcome string    `json:"outcome"`          // AuditOK, or the HTTP status and a short reason
	Detail  string    `json:"detail,omitempty"` // e.g. "device=oven-1 method=recipe.install"
}

// AuditOK is the outcome of an action that succeeded.
const AuditOK = "ok"

// AuditFilter selects audit entries, newest first. Zero fields select
// everything.
type AuditFilter struct {
	Actor    string    // "kind:name", or a name of any kind
	Target   string    // a part of the target, any case
	From, To time.Time // entries at or after From, and before To
	Before   string    // only entries older than this id (the next page)
	Limit    int       // at most this many; 0: the reader's default
}

// AuditPage is a page of audit entries, newest first; Next, when set, is
// the Before of the next page.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}
