package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

const userUsage = `Usage:
  recipesd user add [-role editor|admin] NAME
                               create a staff account for the admin UI (an editor by default)
  recipesd user passwd NAME    set a new password; signs the account out everywhere
  recipesd user role -role editor|admin NAME
                               change an account's role; applies to its next request
  recipesd user disable NAME   disable an account; signs it out everywhere
  recipesd user enable NAME    enable it again
  recipesd user list [-json]   list staff accounts

"recipesd staff" is the same command. Admins may do everything; editors
change the catalog's content only. The last enabled admin can be neither
disabled nor demoted.

The password is taken from RECIPESD_PASSWORD (or the file named by
RECIPESD_PASSWORD_FILE). Without one, a strong password is generated and
is the only thing written to standard output, once:
PW=$(recipesd user add alice). Passwords have at least 10 characters.
The store flags say which catalog to use; an embedded store in use by a
running server is locked: stop the server, or run both against Redis.

Flags:
`

const tokenUsage = `Usage:
  recipesd token add NAME [-scopes catalog,devices,commands,metrics,audit]
                                create an API token; prints it once
  recipesd token revoke NAME    revoke it at once
  recipesd token list [-json]   list API tokens (never their secrets)

The new token is the only thing written to standard output, so that
scripts can capture it: TOKEN=$(recipesd token add import-script).
A token may do only what its scopes allow: catalog (categories and
recipes; the default), devices (register, re-key, disable and delete
devices), commands (send commands to connected appliances), metrics
(read /metrics: a Prometheus scraper's token), audit (read the audit log).
Send it as "Authorization: Bearer $TOKEN" to the JSON API under /api/.

Flags:
`

// staffCommand is the shared frame of "recipesd user" and "recipesd token":
// flags, one action with at most one name, the store.
type staffCommand struct {
	name    string // "user" or "token"
	usage   string
	actions map[string]bool                                                                     // action -> takes a name
	flags   func(fs *flag.FlagSet)                                                              // adds the command's own flags, if any
	list    func(ctx context.Context, reg *identity.Store) (listing, error)                     // the list action
	do      func(ctx context.Context, reg *identity.Store, action, name, password string) error // the others
	detail  func(action string) string                                                          // of the audit entry, if any
}

func (sc staffCommand) run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		cfg    StoreConfig
		asJSON bool
	)
	e := newEnvFlags("recipesd "+sc.name, sc.usage, getenv, stderr)
	e.store(&cfg)
	e.fs.BoolVar(&asJSON, "json", false, "list as JSON")
	if sc.flags != nil {
		sc.flags(e.fs)
	}
	password := e.env("RECIPESD_PASSWORD")
	pos, err := parseStoreCommand(e, &cfg, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		e.fs.Usage()
		return usagef("%s: missing action", sc.name)
	}
	action, names := pos[0], pos[1:]
	takesName, ok := sc.actions[action]
	switch {
	case !ok:
		return usagef("%s: unknown action %q (try \"recipesd %s -h\")", sc.name, action, sc.name)
	case takesName && len(names) != 1:
		return usagef("%s %s: takes one name, got %d arguments", sc.name, action, len(names))
	case !takesName && len(names) != 0:
		return usagef("%s %s: takes no arguments", sc.name, action)
	}
	store, err := openStore(ctx, cfg, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	if action == "list" {
		var l listing
		if l, err = sc.list(ctx, store.ids); err == nil {
			err = l.print(stdout, asJSON)
		}
	} else {
		name := ""
		if takesName {
			name = names[0]
		}
		err = sc.do(ctx, store.ids, action, name, password)
		detail := ""
		if sc.detail != nil {
			detail = sc.detail(action)
		}
		store.record(ctx, stderr, sc.name+" "+action, "name="+name, detail, err)
	}
	switch recipes.ErrorCode(err) {
	case "":
		return nil
	case recipes.EINVALID:
		return &usageError{fmt.Errorf("%s %s: %s", sc.name, action, recipes.ErrorMessage(err))}
	case recipes.ENOTFOUND, recipes.ECONFLICT:
		return &messageError{msg: recipes.ErrorMessage(err), err: err}
	}
	return fmt.Errorf("%s %s: %w", sc.name, action, err)
}

// userCmd runs "recipesd user ...".
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var role string
	cmd := staffCommand{name: "user", usage: userUsage,
		actions: map[string]bool{"add": true, "passwd": true, "role": true, "disable": true, "enable": true, "list": false},
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&role, "role", "", "role of the account (add: default editor; role: required): "+strings.Join(recipes.Roles, ", "))
		},
		detail: func(action string) string {
			if action == "add" || action == "role" {
				return "role=" + role
			}
			return ""
		}}
	cmd.list = func(ctx context.Context, store *identity.Store) (listing, error) {
		staff, err := store.StaffList(ctx)
		if err != nil {
			return listing{}, err
		}
		type entry struct { // without the password hash
			Name      string    `json:"name"`
			Role      string    `json:"role"`
			Disabled  bool      `json:"disabled"`
			CreatedAt time.Time `json:"created_at"`
			UpdatedAt time.Time `json:"updated_at"`
		}
		out := make([]entry, len(staff))
		for i, st := range staff {
			out[i] = entry{st.Name, st.EffectiveRole(), st.Disabled, st.CreatedAt, st.UpdatedAt}
		}
		return newListing(out, "NAME\tROLE\tSTATUS\tCREATED\tCHANGED", func(e entry) string {
			status := "enabled"
			if e.Disabled {
				status = "disabled"
			}
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s", e.Name, e.Role, status, e.CreatedAt.Local().Format(time.DateTime), e.UpdatedAt.Local().Format(time.DateTime))
		}), nil
	}
	cmd.do = func(ctx context.Context, store *identity.Store, action, name, password string) error {
		var generated, what string
		var err error
		switch action {
		case "add":
			generated, err = store.AddStaffAs(ctx, name, password, cmp.Or(role, recipes.RoleEditor))
			what = fmt.Sprintf("staff account %q created as %s", name, cmp.Or(role, recipes.RoleEditor))
		case "passwd":
			generated, err = store.SetPassword(ctx, name, password)
			what = fmt.Sprintf("new password set for %q; its sessions have ended", name)
		case "role":
			if role == "" {
				return recipes.Errorf(recipes.EINVALID, "-role is required (%s)", strings.Join(recipes.Roles, ", "))
			}
			if _, err = store.SetRole(ctx, name, role); err == nil {
				fmt.Fprintf(stderr, "%q is now %s\n", name, role)
			}
			return err
		case "disable", "enable":
			if _, err = store.SetDisabled(ctx, name, action == "disable"); err == nil {
				fmt.Fprintf(stderr, "%q is %sd\n", name, action)
			}
			return err
		}
		if err != nil {
			return err
		}
		printSecret(stdout, stderr, generated, what)
		return nil
	}
	return cmd.run(ctx, args, getenv, stdout, stderr)
}

// tokenCmd runs "recipesd token ...".
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var scopes string
	cmd := staffCommand{name: "token", usage: tokenUsage, actions: map[string]bool{"add": true, "revoke": true, "list": false},
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&scopes, "scopes", recipes.ScopeCatalog, "what the new token may do, comma-separated: "+strings.Join(recipes.AllScopes, ", "))
		},
		detail: func(action string) string {
			if action == "add" {
				return "scopes=" + scopes
			}
			return ""
		}}
	cmd.list = func(ctx context.Context, store *identity.Store) (listing, error) {
		ts, err := store.APITokens(ctx)
		if err != nil {
			return listing{}, err
		}
		type entry struct { // without the token's hash
			Name      string    `json:"name"`
			Scopes    []string  `json:"scopes"`
			CreatedBy string    `json:"created_by"`
			CreatedAt time.Time `json:"created_at"`
		}
		out := make([]entry, len(ts))
		for i, t := range ts {
			out[i] = entry{t.Name, t.Allowed(), t.CreatedBy, t.CreatedAt}
		}
		return newListing(out, "NAME\tSCOPES\tCREATED BY\tCREATED", func(e entry) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s", e.Name, strings.Join(e.Scopes, ","), e.CreatedBy, e.CreatedAt.Local().Format(time.DateTime))
		}), nil
	}
	cmd.do = func(ctx context.Context, store *identity.Store, action, name, _ string) error {
		switch action {
		case "add":
			var list []string
			for sc := range strings.SplitSeq(scopes, ",") {
				if sc = strings.TrimSpace(sc); sc != "" {
					list = append(list, sc)
				}
			}
			secret, err := store.CreateAPIToken(ctx, name, "command line", list)
			if err != nil {
				return err
			}
			printSecret(stdout, stderr, secret, fmt.Sprintf("API token %q created", name))
		case "revoke":
			if err := store.RevokeAPIToken(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "API token %q revoked\n", name)
		}
		return nil
	}
	return cmd.run(ctx, args, getenv, stdout, stderr)
}
