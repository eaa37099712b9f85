package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/recipes"
)

// throttleStore knows the accounts alice, bob and carol, all with the
// password "right-password".
func throttleStore(tb testing.TB) *fakeStore {
	return &fakeStore{
		AuthenticateStaffFn: func(_ context.Context, name, password string) (recipes.Staff, error) {
			switch {
			case name != "alice" && name != "bob" && name != "carol":
				return recipes.Staff{}, recipes.Errorf(recipes.ENOTFOUND, "no staff %q", name)
			case password != "right-password":
				return recipes.Staff{}, recipes.Errorf(recipes.EINVALID, "wrong name or password")
			}
			return recipes.Staff{Name: name}, nil
		},
		CreateSessionFn: func(context.Context, recipes.Session, time.Duration) (string, error) { return "a-session-id", nil },
	}
}

// signInFrom posts the sign-in form to s over TCP from the loopback
// address from (127.0.0.0/8 is all loopback), as a browser would.
func signInFrom(tb testing.TB, s *admin.Server, from, name, password string) *http.Response {
	tb.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{
		Transport:     &http.Transport{DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	defer client.CloseIdleConnections()
	form := url.Values{"name": {name}, "password": {password}, "_csrf": {testCSRF}}
	req, err := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "recipesd_csrf", Value: testCSRF})
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

// wantStatus checks a sign-in's status and, for a 429, its message.
func wantStatus(tb testing.TB, resp *http.Response, status int, msg string) {
	tb.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		tb.Fatalf("status %d, want %d: %s", resp.StatusCode, status, excerpt(string(body)))
	}
	if msg != "" && !strings.Contains(string(body), msg) {
		tb.Fatalf("the page does not say %q: %s", msg, excerpt(string(body)))
	}
	if status == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		tb.Error("429 without Retry-After")
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	return s[:min(len(s), 600)]
}

// TestLoginThrottle signs in over real HTTP from several loopback
// addresses: one guesser must be stopped without stopping the others.
func TestLoginThrottle(t *testing.T) {
	opts := admin.Options{LoginBurst: 3, LoginEvery: time.Hour, LoginAddressBurst: 5, LoginAccountBurst: 4}
	const right, wrong = "right-password", "wrong-password"
	t.Run("NeighbourHammersAnotherAccount", func(t *testing.T) {
		s := MustStart(t, throttleStore(t), opts)
		for range 3 {
			wantStatus(t, signInFrom(t, s, "127.0.0.2", "bob", wrong), 401, "Wrong name or password.")
		}
		for range 3 { // refused ones are no failures: they do not fill the address's limit
			wantStatus(t, signInFrom(t, s, "127.0.0.2", "bob", wrong), 429, "for this account from your address")
		}
		// Alice, behind the same address, still gets in.
		wantStatus(t, signInFrom(t, s, "127.0.0.2", "alice", right), 303, "")
		// And bob's limit holds even with his right password.
		wantStatus(t, signInFrom(t, s, "127.0.0.2", "bob", right), 429, "")
	})
	t.Run("SuccessForgives", func(t *testing.T) {
		o := opts
		o.LoginAddressBurst, o.LoginAccountBurst = 100, 100
		s := MustStart(t, throttleStore(t), o)
		for range 5 { // a typo or two, then the right password, all day long
			wantStatus(t, signInFrom(t, s, "127.0.0.3", "alice", wrong), 401, "")
			wantStatus(t, signInFrom(t, s, "127.0.0.3", "alice", wrong), 401, "")
			wantStatus(t, signInFrom(t, s, "127.0.0.3", "alice", right), 303, "")
			if t.Failed() {
				return
			}
		}
	})
	t.Run("AddressCap", func(t *testing.T) {
		s := MustStart(t, throttleStore(t), opts)
		for _, name := range []string{"alice", "alice", "bob", "bob", "nobody"} {
			wantStatus(t, signInFrom(t, s, "127.0.0.4", name, wrong), 401, "")
		}
		wantStatus(t, signInFrom(t, s, "127.0.0.4", "carol", right), 429, "from your address")
		wantStatus(t, signInFrom(t, s, "127.0.0.5", "carol", right), 303, "")
	})
	t.Run("AccountCap", func(t *testing.T) {
		s := MustStart(t, throttleStore(t), opts)
		for _, from := range []string{"127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9"} {
			wantStatus(t, signInFrom(t, s, from, "alice", wrong), 401, "")
		}
		wantStatus(t, signInFrom(t, s, "127.0.0.10", "alice", right), 429, "for this account.")
		wantStatus(t, signInFrom(t, s, "127.0.0.10", "bob", right), 303, "")
	})
}

// syncBuffer is a log destination that handlers may write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLoginLogNoPassword: people type their password into the name field;
// a name that is no account must not reach the log.
func TestLoginLogNoPassword(t *testing.T) {
	var logs syncBuffer
	s := MustStart(t, throttleStore(t), admin.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const typed = "Tr0ub4dor&3-in-the-name-field"
	wantStatus(t, signInFrom(t, s, "127.0.0.1", typed, "whatever"), 401, "")
	wantStatus(t, signInFrom(t, s, "127.0.0.1", "alice", typed), 401, "")
	got := logs.String()
	if strings.Contains(got, typed) || strings.Contains(got, "Tr0ub4dor") {
		t.Errorf("the log shows what was typed:\n%s", got)
	}
	for _, want := range []string{fmt.Sprintf("name_len=%d", len(typed)), "name=alice"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
}
