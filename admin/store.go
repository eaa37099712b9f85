package admin

import (
	"context"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// Catalog is the editors' side of the catalog store. Everything it saves
// is a draft until one of the Publish methods makes it what appliances see;
// moves, reorders and deletes apply at once.
type Catalog interface {
	// Ping returns an error when the store cannot be reached.
	Ping(ctx context.Context) error

	// EditorCategories returns every category, published or not, in order.
	EditorCategories(ctx context.Context) ([]recipes.CategoryInfo, error)
	// EditorCategory returns one category, or ENOTFOUND.
	EditorCategory(ctx context.Context, slug string) (recipes.CategoryInfo, error)
	// CreateCategory saves a new, unpublished category; it returns the
	// *recipes.ValidationError if c is invalid or the slug is taken.
	CreateCategory(ctx context.Context, c recipes.Category) (recipes.Category, error)
	// UpdateCategory edits a category's draft; ENOTFOUND, or the
	// *recipes.ValidationError.
	UpdateCategory(ctx context.Context, slug string, u recipes.CategoryUpdate) (recipes.Category, error)
	// ReorderCategories sets the order of all categories; EINVALID if
	// slugs does not list each exactly once.
	ReorderCategories(ctx context.Context, slugs []string) error
	// RemoveCategory deletes a category; ECONFLICT while it holds recipes
	// unless how moves or deletes them. It returns how many it moved or
	// deleted.
	RemoveCategory(ctx context.Context, slug string, how recipes.CategoryRemoval) (int, error)
	// PublishCategory publishes a category's draft and its recipes' drafts.
	PublishCategory(ctx context.Context, slug string) (recipes.Publication, error)

	// EditorRecipes returns a page of a category's recipes; ENOTFOUND.
	EditorRecipes(ctx context.Context, slug string, f recipes.RecipeFilter) (recipes.RecipePage, error)
	// EditorRecipe returns the editors' copy of a recipe; ENOTFOUND.
	EditorRecipe(ctx context.Context, id string) (recipes.Recipe, recipes.Status, error)
	// CreateRecipe saves a new, unpublished recipe; the
	// *recipes.ValidationError if r is invalid, its id taken or its
	// category unknown.
	CreateRecipe(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error)
	// SaveRecipe saves a recipe's draft; ENOTFOUND, or the
	// *recipes.ValidationError.
	SaveRecipe(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error)
	// MoveRecipe files a recipe under another category at once; ENOTFOUND,
	// the *recipes.ValidationError, or ECONFLICT for a published recipe
	// and an unpublished category.
	MoveRecipe(ctx context.Context, id, to string) error
	// DiscardRecipe drops a published recipe's draft; ENOTFOUND, or
	// ECONFLICT if it was never published.
	DiscardRecipe(ctx context.Context, id string) error
	// RemoveRecipe deletes a recipe at once; ENOTFOUND.
	RemoveRecipe(ctx context.Context, id string) error
	// PublishRecipe publishes a recipe's draft, and its category if that
	// is new; ENOTFOUND, or the *recipes.ValidationError.
	PublishRecipe(ctx context.Context, id string) (recipes.Publication, error)

	Translating // admin/translations.go
	Revisions   // the history of recipes and categories (history.go)
}

// Accounts keeps staff accounts, their sessions and API tokens, and their
// rules: it checks passwords, issues session ids and token secrets, and
// stores only hashes of them.
type Accounts interface {
	// AuthenticateStaff returns the account if password is its password;
	// ENOTFOUND for no such account, EINVALID for a wrong password, each
	// as slow as a right one; ECONFLICT for a disabled account.
	AuthenticateStaff(ctx context.Context, name, password string) (recipes.Staff, error)

	// Staff returns one staff account; ENOTFOUND. It is read on every
	// signed-in request, so that a role change or a disabled account
	// applies at once.
	Staff(ctx context.Context, name string) (recipes.Staff, error)
	// StaffList returns every staff account by name.
	StaffList(ctx context.Context) ([]recipes.Staff, error)
	// AddStaffAs creates an account with role and password, or a
	// generated one if password is empty, and returns the generated one;
	// EINVALID (name, role, password policy) or ECONFLICT (name taken).
	AddStaffAs(ctx context.Context, name, password, role string) (string, error)
	// SetPassword sets a new password, or a generated one (returned) if
	// password is empty, and ends the account's sessions; EINVALID or
	// ENOTFOUND.
	SetPassword(ctx context.Context, name, password string) (string, error)
	// SetRole changes an account's role; EINVALID, ENOTFOUND, or
	// ECONFLICT for the last enabled admin.
	SetRole(ctx context.Context, name, role string) (recipes.Staff, error)
	// SetDisabled disables (ending its sessions) or enables an account;
	// ENOTFOUND, or ECONFLICT for the last enabled admin.
	SetDisabled(ctx context.Context, name string, disabled bool) (recipes.Staff, error)

	// CreateSession starts a session that expires after idle unused and
	// returns its id, the secret for the cookie.
	CreateSession(ctx context.Context, sess recipes.Session, idle time.Duration) (string, error)
	// Session returns the live session of id and extends it; ENOTFOUND.
	Session(ctx context.Context, id string, idle time.Duration) (recipes.Session, error)
	// DeleteSession ends the session of id.
	DeleteSession(ctx context.Context, id string) error

	// APITokens lists the tokens.
	APITokens(ctx context.Context) ([]recipes.APIToken, error)
	// CreateAPIToken creates a token and returns its secret, shown once;
	// EINVALID or ECONFLICT.
	CreateAPIToken(ctx context.Context, name, createdBy string, scopes []string) (string, error)
	// APIToken returns the token whose secret is secret; ENOTFOUND.
	APIToken(ctx context.Context, secret string) (recipes.APIToken, error)
	// RevokeAPIToken deletes a token; ENOTFOUND.
	RevokeAPIToken(ctx context.Context, name string) error
}

// Devices is the registry of appliances allowed to connect. It keeps only
// hashes of their secrets: a secret is returned once, when it is issued.
// Disabling, deleting or re-keying a device, or changing its model, ends
// the session it has now.
type Devices interface {
	// DeviceIDs returns every registered device's id, sorted.
	DeviceIDs(ctx context.Context) ([]string, error)
	// DevicesByID returns the devices with those ids, in that order,
	// skipping ids that are not registered.
	DevicesByID(ctx context.Context, ids []string) ([]recipes.Device, error)
	// Device returns one device, or ENOTFOUND.
	Device(ctx context.Context, id string) (recipes.Device, error)
	// RegisterDevice registers an enabled device with d's id, model and
	// locale (stored canonical) and returns its secret; the
	// *recipes.ValidationError for a bad id, model or locale, ECONFLICT if
	// the id is taken.
	RegisterDevice(ctx context.Context, d recipes.Device) (string, error)
	// RotateDeviceSecret issues a new secret and returns it; the old one
	// stops working. ENOTFOUND.
	RotateDeviceSecret(ctx context.Context, id string) (string, error)
	// UpdateDevice changes a device's model, locale and/or enabled flag at
	// once and returns it; the *recipes.ValidationError (nothing changed), or
	// ENOTFOUND.
	UpdateDevice(ctx context.Context, id string, u recipes.DeviceUpdate) (recipes.Device, error)
	// DeleteDevice removes a device; ENOTFOUND.
	DeleteDevice(ctx context.Context, id string) error
}

// AuditLog is where the server records every state-changing request and
// reads them back for /audit.
type AuditLog interface {
	// Record appends e; its ID and Time are the log's.
	Record(ctx context.Context, e recipes.AuditEntry) error
	// Entries returns a page of the entries f selects, newest first;
	// EINVALID for a bad f.Before.
	Entries(ctx context.Context, f recipes.AuditFilter) (recipes.AuditPage, error)
	// Each calls fn with every entry f selects, newest first, until fn
	// returns an error.
	Each(ctx context.Context, f recipes.AuditFilter, fn func(recipes.AuditEntry) error) error
}

// Store is everything the admin server needs from the store.
type Store interface {
	Catalog
	Schedules
	Accounts
	Devices
}
