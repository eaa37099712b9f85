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
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/web"
)

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
		// A copy: net/http adds its protocols (h2) to the config it
		// serves, and the caller may share the one it gave (recipesd
		// serves MQTT over TLS with the same certificate).
		s.srv.TLSConfig = s.opts.TLSConfig.Clone()
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
