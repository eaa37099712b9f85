package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

const userUsage = `Usage:
  recipesd user add NAME       create a staff account for the admin UI
  recipesd user passwd NAME    set a new password; signs the account out everywhere
  recipesd user list [-json]   list staff accounts

The password is taken from RECIPESD_PASSWORD (or the file named by
RECIPESD_PASSWORD_FILE). Without one, a strong password is generated and
is the only thing written to standard output, once:
PW=$(recipesd user add alice). Passwords have at least 10 characters.
The store flags say which catalog to use; an embedded store in use by a
running server is locked: stop the server, or run both against Redis.

Flags:
`

const tokenUsage = `Usage:
  recipesd token add NAME [-scopes catalog,devices,commands,metrics]
                                create an API token; prints it once
  recipesd token revoke NAME    revoke it at once
  recipesd token list [-json]   list API tokens (never their secrets)

The new token is the only thing written to standard output, so that
scripts can capture it: TOKEN=$(recipesd token add import-script).
A token may do only what its scopes allow: catalog (categories and
recipes; the default), devices (register, re-key, disable and delete
devices), commands (send commands to connected appliances), metrics
(read /metrics: a Prometheus scraper's token).
Send it as "Authorization: Bearer $TOKEN" to the JSON API under /api/.

Flags:
`

// staffCommand is the shared frame of "recipesd user" and "recipesd token":
// flags, one action with at most one name, the store.
type staffCommand struct {
	name    string // "user" or "token"
	usage   string
	actions map[string]bool        // action -> takes a name
	flags   func(fs *flag.FlagSet) // adds the command's own flags, if any
}

func (sc staffCommand) run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer,
	do func(ctx context.Context, reg *identity.Store, action, name, password string, asJSON bool) error,
) error {
	var (
		cfg    StoreConfig
		asJSON bool
	)
	fs := flag.NewFlagSet("recipesd "+sc.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), sc.usage)
		fs.PrintDefaults()
	}
	e := &envFlags{fs: fs, getenv: getenv}
	e.store(&cfg)
	fs.BoolVar(&asJSON, "json", false, "list as JSON")
	if sc.flags != nil {
		sc.flags(fs)
	}
	password := e.env("RECIPESD_PASSWORD")
	pos, err := parseStoreCommand(fs, e, &cfg, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
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
	name := ""
	if takesName {
		name = names[0]
	}
	store, err := openStore(ctx, cfg, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	reg := openIdentity(store.rdb, cfg, 5*time.Second, 0, slog.New(slog.DiscardHandler))
	err = do(ctx, reg, action, name, password, asJSON)
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
	cmd := staffCommand{name: "user", usage: userUsage, actions: map[string]bool{"add": true, "passwd": true, "list": false}}
	return cmd.run(ctx, args, getenv, stdout, stderr, func(ctx context.Context, store *identity.Store, action, name, password string, asJSON bool) error {
		switch action {
		case "add":
			generated, err := store.AddStaff(ctx, name, password)
			if err != nil {
				return err
			}
			printSecret(stdout, stderr, generated, fmt.Sprintf("staff account %q created", name))
		case "passwd":
			generated, err := store.SetPassword(ctx, name, password)
			if err != nil {
				return err
			}
			printSecret(stdout, stderr, generated, fmt.Sprintf("new password set for %q; its sessions have ended", name))
		case "list":
			staff, err := store.StaffList(ctx)
			if err != nil {
				return err
			}
			type entry struct {
				Name      string    `json:"name"`
				CreatedAt time.Time `json:"created_at"`
				UpdatedAt time.Time `json:"updated_at"`
			}
			out := make([]entry, len(staff))
			for i, st := range staff {
				out[i] = entry{st.Name, st.CreatedAt, st.UpdatedAt}
			}
			return printList(stdout, out, asJSON, "NAME\tCREATED\tPASSWORD SET", func(e entry) string {
				return fmt.Sprintf("%s\t%s\t%s", e.Name, e.CreatedAt.Local().Format(time.DateTime), e.UpdatedAt.Local().Format(time.DateTime))
			})
		}
		return nil
	})
}

// tokenCmd runs "recipesd token ...".
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var scopes string
	cmd := staffCommand{name: "token", usage: tokenUsage, actions: map[string]bool{"add": true, "revoke": true, "list": false},
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&scopes, "scopes", recipes.ScopeCatalog, "what the new token may do, comma-separated: "+strings.Join(recipes.AllScopes, ", "))
		}}
	return cmd.run(ctx, args, getenv, stdout, stderr, func(ctx context.Context, store *identity.Store, action, name, _ string, asJSON bool) error {
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
		case "list":
			ts, err := store.APITokens(ctx)
			if err != nil {
				return err
			}
			type entry struct {
				Name      string    `json:"name"`
				Scopes    []string  `json:"scopes"`
				CreatedBy string    `json:"created_by"`
				CreatedAt time.Time `json:"created_at"`
			}
			out := make([]entry, len(ts))
			for i, t := range ts {
				out[i] = entry{t.Name, t.Allowed(), t.CreatedBy, t.CreatedAt}
			}
			return printList(stdout, out, asJSON, "NAME\tSCOPES\tCREATED BY\tCREATED", func(e entry) string {
				return fmt.Sprintf("%s\t%s\t%s\t%s", e.Name, strings.Join(e.Scopes, ","), e.CreatedBy, e.CreatedAt.Local().Format(time.DateTime))
			})
		}
		return nil
	})
}

// printSecret writes a new secret, if there is one, alone on stdout, and
// what happened on stderr.
func printSecret(stdout, stderr io.Writer, secret, what string) {
	if secret == "" {
		fmt.Fprintln(stderr, what)
		return
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "%s; the secret above is shown only this once\n", what)
}

func printList[T any](w io.Writer, items []T, asJSON bool, head string, row func(T) string) error {
	if asJSON {
		if items == nil {
			items = []T{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, head)
	for _, it := range items {
		fmt.Fprintln(tw, row(it))
	}
	return tw.Flush()
}

// admin registers the flags of the admin server.
func (e *envFlags) admin(c *Config) {
	e.Duration(&c.SessionIdle, "session-idle", "RECIPESD_SESSION_IDLE", 30*time.Minute, "an editor unused this long is signed out")
	e.Bool(&c.SecureCookies, "secure-cookies", "RECIPESD_SECURE_COOKIES", false, "mark cookies Secure on plain HTTP too (behind a TLS-terminating proxy)")
	// A password is never a flag: flags show in ps.
	c.AdminPassword = e.env("RECIPESD_ADMIN_PASSWORD")
}
