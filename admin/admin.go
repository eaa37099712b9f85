// Package admin serves recipesd's HTTP side: the editors' web UI, the JSON
// API, and the health and metrics endpoints.
package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/web"
)

// Store is what the admin side needs from the catalog.
type Store interface {
	// Ping returns an error when the store cannot be reached.
	Ping(ctx context.Context) error
	// Categories returns the published categories.
	Categories(ctx context.Context) ([]recipes.Category, error)
}

// Options tunes the server. The zero value works.
type Options struct {
	Addr     string       // default ":8080"
	Listener net.Listener // used instead of Addr when set (tests)
	MQTTAddr string       // shown on the start page
	Logger   *slog.Logger
}

// Server is the HTTP server.
type Server struct {
	store Store
	opts  Options
	log   *slog.Logger
	echo  *echo.Echo
	tmpl  *template.Template
	ln    net.Listener
	srv   *http.Server
	done  chan error
}

// New returns a Server over store. It does no I/O; call [Server.Start].
func New(store Store, opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = ":8080"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{store: store, opts: opts, log: opts.Logger.With("component", "admin")}
}

// Start parses the templates, binds the listener and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	tmpl, err := web.ParseTemplates()
	if err != nil {
		return err
	}
	s.tmpl = tmpl
	s.echo = echo.New()
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.Renderer = s
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()

	s.ln = s.opts.Listener
	if s.ln == nil {
		if s.ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr); err != nil {
			return fmt.Errorf("admin: listen on %s: %w", s.opts.Addr, err)
		}
	}
	s.srv = &http.Server{Handler: s.echo, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(s.ln) }()
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

// Close shuts the server down gracefully within ctx.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	s.srv = nil
	return err
}

func (s *Server) routes() {
	s.echo.GET("/", s.handleIndex)
	s.echo.GET("/healthz", s.handleHealth)
	s.echo.GET("/readyz", s.handleReady)
	s.echo.StaticFS("/static", web.Static())
}

// Render implements echo.Renderer.
func (s *Server) Render(w io.Writer, name string, data interface{}, _ echo.Context) error {
	return s.tmpl.ExecuteTemplate(w, name, data)
}

// codes maps domain error codes to HTTP statuses: this transport's table.
var codes = map[string]int{
	recipes.EINVALID:     http.StatusBadRequest,
	recipes.ENOTFOUND:    http.StatusNotFound,
	recipes.ECONFLICT:    http.StatusConflict,
	recipes.EUNAVAILABLE: http.StatusServiceUnavailable,
	recipes.EINTERNAL:    http.StatusInternalServerError,
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	status, msg := http.StatusInternalServerError, recipes.ErrorMessage(err)
	if errors.As(err, &he) {
		status, msg = he.Code, fmt.Sprint(he.Message)
	} else if st, ok := codes[recipes.ErrorCode(err)]; ok {
		status = st
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
	}
	_ = c.JSON(status, map[string]any{"error": map[string]any{"code": recipes.ErrorCode(err), "message": msg}})
}
