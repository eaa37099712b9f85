package recipes

import "context"

// Actor is who made a change: a staff member in the admin UI, a program
// with an API token, an operator at the command line, or the server itself
// (a scheduled publish). Revisions and the audit log record it.
type Actor struct {
	Kind string `json:"kind"` // one of the Actor… constants
	Name string `json:"name"` // staff or token name, OS user, or the job
}

// Kinds of [Actor].
const (
	ActorStaff  = "staff"
	ActorToken  = "token"
	ActorCLI    = "cli"
	ActorSystem = "system"
)

// String returns "kind:name", as the audit log shows it.
func (a Actor) String() string {
	if a.Kind == "" {
		return ActorSystem + ":" + a.Name
	}
	return a.Kind + ":" + a.Name
}

type actorKey struct{}

// WithActor returns ctx carrying a: every write made under it is recorded
// as a's.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or a system actor when none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}
