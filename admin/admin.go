// Package admin serves recipesd's HTTP side: the editors' web UI, the JSON
// API, and the health and metrics endpoints.
package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/web"
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
}

// Accounts keeps staff accounts, their sessions and API tokens, and their
// rules: it checks passwords, issues session ids and token secrets, and
// stores only hashes of them.
type Accounts interface {
	// AuthenticateStaff returns the account if password is its password;
	// ENOTFOUND for no such account, EINVALID for a wrong password, each
	// as slow as a right one.
	AuthenticateStaff(ctx context.Context, name, password string) (recipes.Staff, error)

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
	// AddDevice registers an enabled device and returns its secret; the
	// *recipes.ValidationError for a bad id or model, ECONFLICT if the id
	// is taken.
	AddDevice(ctx context.Context, id, model string) (string, error)
	// RotateDeviceSecret issues a new secret and returns it; the old one
	// stops working. ENOTFOUND.
	RotateDeviceSecret(ctx context.Context, id string) (string, error)
	// UpdateDevice changes a device's model and/or enabled flag at once
	// and returns it; the *recipes.ValidationError (nothing changed), or
	// ENOTFOUND.
	UpdateDevice(ctx context.Context, id string, u recipes.DeviceUpdate) (recipes.Device, error)
	// DeleteDevice removes a device; ENOTFOUND.
	DeleteDevice(ctx context.Context, id string) error
}

// Store is everything the admin server needs from the store.
type Store interface {
	Catalog
	Accounts
	Devices
}

// Options tunes the server. The zero value works.
type Options struct {
	Addr     string       // default "127.0.0.1:8080": loopback unless told otherwise
	Listener net.Listener // used instead of Addr when set (tests)
	MQTTAddr string       // shown on the dashboard
	Logger   *slog.Logger

	SessionIdle   time.Duration // a session unused this long ends; default 30m
	SessionMaxAge time.Duration // a session ends this long after sign-in; default 12h

	// SecureCookies marks cookies Secure even on plain HTTP requests, for
	// a server behind a TLS-terminating proxy. Requests that arrive over
	// TLS always get Secure cookies.
	SecureCookies bool

	// Sign-in throttling (see loginThrottle): failed attempts of one
	// account from one client address, LoginBurst at once and then one
	// more per LoginEvery (default 10, 6s); of any account from one
	// address, LoginAddressBurst (default 10×LoginBurst); of one account
	// from any address, LoginAccountBurst (default 3×LoginBurst). The
	// last two refill at the same pace as the first: each completely in
	// LoginBurst×LoginEvery.
	LoginBurst        int
	LoginEvery        time.Duration
	LoginAddressBurst int
	LoginAccountBurst int

	BodyLimit string // largest request body, like "1M"; default 1M

	// Connection timeouts, for HTTP and HTTPS alike: a client that sends
	// half a request, or keeps an idle connection open, must not hold a
	// connection and a goroutine for ever.
	ReadHeaderTimeout time.Duration // TLS handshake and request headers; default 10s
	ReadTimeout       time.Duration // the whole request, body included; default 1m (1 MiB at 140 kbit/s)
	IdleTimeout       time.Duration // a keep-alive connection between requests; default 2m
	// WriteTimeout bounds reading the body, handling and writing the
	// response; it must stay above the longest handler (a command to an
	// appliance waits up to 30s) plus ReadTimeout. Default 2m; negative: none.
	WriteTimeout time.Duration

	// TLSConfig, if set, makes the server speak HTTPS only.
	TLSConfig *tls.Config

	// Metrics, when set, is served on /metrics and is where the dashboard
	// reads the responder's counters (by their metric names); it is
	// sampled every SampleEvery and kept for History.
	Metrics     prometheus.Gatherer
	SampleEvery time.Duration // default 5s
	History     time.Duration // default 15m

	// Appliances, when set, lets the API command connected appliances
	// (POST /api/devices/:id/rpc).
	Appliances Appliances
	// AnonymousDevices: devices may connect without being registered, so
	// a connected device may be commanded though the registry lacks it.
	AnonymousDevices bool
}

func (o *Options) ensureDefaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.SessionMaxAge <= 0 {
		o.SessionMaxAge = 12 * time.Hour
	}
	if o.LoginBurst <= 0 {
		o.LoginBurst = 10
	}
	if o.LoginEvery <= 0 {
		o.LoginEvery = 6 * time.Second
	}
	if o.LoginAddressBurst <= 0 {
		o.LoginAddressBurst = 10 * o.LoginBurst
	}
	if o.LoginAccountBurst <= 0 {
		o.LoginAccountBurst = 3 * o.LoginBurst
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = time.Minute
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 2 * time.Minute
	}
	if o.BodyLimit == "" {
		o.BodyLimit = "1M"
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = 5 * time.Second
	}
	if o.History <= 0 {
		o.History = 15 * time.Minute
	}
}

// Server is the HTTP server.
type Server struct {
	store  Store
	opts   Options
	log    *slog.Logger
	echo   *echo.Echo
	tmpl   *template.Template
	logins *loginThrottle
	hist   *history

	ln     net.Listener
	srv    *http.Server
	done   chan error
	stop   chan struct{}
	bg     sync.WaitGroup
	closed bool
}

// New returns a Server over store. It does no I/O; call [Server.Start].
func New(store Store, opts Options) *Server {
	opts.ensureDefaults()
	return &Server{
		store: store,
		opts:  opts,
		log:   opts.Logger.With("component", "admin"),
		logins: newLoginThrottle(opts.LoginBurst, opts.LoginAddressBurst, opts.LoginAccountBurst,
			time.Duration(opts.LoginBurst)*opts.LoginEvery),
		hist: newHistory(int(opts.History / opts.SampleEvery)),
	}
}

// Handler returns the server's HTTP handler with its templates parsed, for
// tests that serve it themselves; [Server.Start] calls it.
func (s *Server) Handler() (http.Handler, error) {
	if s.echo != nil {
		return s.echo, nil
	}
	tmpl, err := web.ParseTemplates()
	if err != nil {
		return nil, err
	}
	s.tmpl = tmpl
	s.echo = echo.New()
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.Renderer = s
	s.echo.HTTPErrorHandler = s.handleError
	// The client address is the TCP peer's: X-Forwarded-For and X-Real-IP
	// are whatever the client wants them to be.
	s.echo.IPExtractor = echo.ExtractIPDirect()
	s.routes()
	return s.echo, nil
}

// Start parses the templates, binds the listener and serves in the
// background, sampling the stats for the dashboard.
func (s *Server) Start(ctx context.Context) error {
	h, err := s.Handler()
	if err != nil {
		return err
	}
	s.ln = s.opts.Listener
	if s.ln == nil {
		if s.ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr); err != nil {
			return fmt.Errorf("admin: listen on %s: %w", s.opts.Addr, err)
		}
	}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		WriteTimeout:      max(s.opts.WriteTimeout, 0),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.done = make(chan error, 1)
	s.stop = make(chan struct{})
	if s.opts.TLSConfig != nil {
		s.srv.TLSConfig = s.opts.TLSConfig
		go func() { s.done <- s.srv.ServeTLS(s.ln, "", "") }()
	} else {
		go func() { s.done <- s.srv.Serve(s.ln) }()
	}
	if s.opts.Metrics != nil {
		s.bg.Add(1)
		go s.sample()
	}
	s.log.Info("http listening", "addr", s.Addr())
	return nil
}

// Addr returns the bound address.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close shuts the server down gracefully within ctx. It is safe to call
// more than once.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil || s.closed {
		return nil
	}
	s.closed = true
	close(s.stop)
	s.bg.Wait()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// Render implements echo.Renderer.
func (s *Server) Render(w io.Writer, name string, data interface{}, _ echo.Context) error {
	return s.tmpl.ExecuteTemplate(w, name, data)
}
