package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/recipes"
)

// fakeAppliances is an [admin.Appliances] made of function fields. Its
// command topic and idempotency window are not the responder's: messages
// must take them from what admin is given.
type fakeAppliances struct {
	CallFn    func(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error)
	connected []string
}

var _ admin.Appliances = (*fakeAppliances)(nil)

func (f *fakeAppliances) Call(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error) {
	return f.CallFn(ctx, c)
}

// Connections and ConnectedDevices make it the [admin.Presence] too: the
// devices it has connected are on node "node-1".
func (f *fakeAppliances) Connections(_ context.Context, ids []string) (map[string]admin.Connection, error) {
	out := map[string]admin.Connection{}
	for _, id := range ids {
		if slices.Contains(f.connected, id) {
			out[id] = admin.Connection{Node: "node-1"}
		}
	}
	return out, nil
}
func (f *fakeAppliances) ConnectedDevices(context.Context) ([]string, error) { return f.connected, nil }
func (f *fakeAppliances) CommandTopic(id string) string                      { return "test/" + id + "/commands" }
func (f *fakeAppliances) IdempotencyWindow() time.Duration                   { return 90 * time.Second }

func TestAPIDeviceCall(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string // part of the message
	}{
		{"OK", `{"method":"lid.lock"}`, nil, 200, "", ""},
		{"ErrNotFound", `{"method":"lid.lock"}`, recipes.Errorf(recipes.ENOTFOUND, "device not found"), 404, recipes.ENOTFOUND, ""},
		{"ErrOffline", `{"method":"lid.lock"}`, fmt.Errorf("x: %w", &recipes.CallError{Code: recipes.CallOffline, Reason: "not subscribed"}), 409, "offline",
			"Appliance oven-1 is offline (not connected, or not subscribed to test/oven-1/commands); nothing was sent."},
		{"ErrTimeout", `{"method":"lid.lock","timeout_ms":250}`, recipes.ErrCallTimeout, 504, "timeout", "within 250 ms."},
		// The timeout of the call that timed out, which for a replayed
		// outcome is not this request's.
		{"ErrTimeoutOriginal", `{"method":"lid.lock","timeout_ms":250}`, &recipes.CallError{Code: recipes.CallTimeout, Timeout: 9 * time.Second}, 504, "timeout", "within 9000 ms."},
		{"ErrCallerKeysFull", `{"method":"lid.lock"}`, &recipes.CallError{Code: recipes.CallTooManyKeys, Limit: 3, Caller: true}, 503, "busy",
			"You already have 3 idempotency keys remembered (each for 90 seconds), as many as one caller may"},
		{"ErrServerKeysFull", `{"method":"lid.lock"}`, &recipes.CallError{Code: recipes.CallTooManyKeys, Limit: 9, Caller: false}, 503, "busy", "The server remembers too many idempotency keys"},
		{"ErrKeyReused", `{"method":"lid.lock"}`, recipes.ErrCallKeyReused, 422, "idempotency_key_reused",
			`The Idempotency-Key "k1" was already used for a different command to oven-1 within the last 90 seconds; nothing was sent.`},
		{"ErrTooLarge", `{"method":"lid.lock"}`, &recipes.CallError{Code: recipes.CallTooLarge, Size: 3000, Limit: 1024}, 413, "too_large",
			"Appliance oven-1: command larger than the appliance accepts (3000 bytes; it accepts at most 1024); nothing was sent."},
		{"ErrGone", `{"method":"lid.lock"}`, recipes.ErrCallGone, 504, "disconnected", "Appliance oven-1: appliance disconnected before answering."},
		{"ErrBusy", `{"method":"lid.lock"}`, recipes.ErrCallBusy, 503, "busy", "Appliance oven-1: appliance busy."},
		{"ErrBadAnswer", `{"method":"lid.lock"}`, recipes.ErrCallBadAnswer, 502, "bad_answer", "Appliance oven-1: appliance sent a malformed answer."},
		{"ErrInvalidMethod", `{"params":{}}`, nil, 400, recipes.EINVALID, ""},
		{"ErrInvalidTimeout", `{"method":"x","timeout_ms":99}`, nil, 400, recipes.EINVALID, ""},
		{"ErrInvalidJSON", `{"method":`, nil, 400, recipes.EINVALID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got admin.ApplianceCall
			apps := &fakeAppliances{CallFn: func(_ context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error) {
				got = c
				if tt.err != nil {
					return admin.ApplianceAnswer{}, tt.err
				}
				return admin.ApplianceAnswer{Status: 200, Body: json.RawMessage(`{"status":200,"result":{"lid":"locked"}}`)}, nil
			}}
			store := &fakeStore{APITokenFn: robotToken, DeviceFn: registered("oven-1")}
			h := MustServe(t, store, admin.Options{Appliances: apps})
			req := httptest.NewRequest(http.MethodPost, "/api/devices/oven-1/rpc", strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer secret")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "k1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 200 {
				if rec.Body.String() != `{"status":200,"result":{"lid":"locked"}}` {
					t.Fatalf("body %s", rec.Body)
				}
				if got.Device != "oven-1" || got.Method != "lid.lock" || got.Timeout != 5*time.Second || got.IdempotencyKey != "k1" ||
					got.Caller != "token:hash-of-robot" {
					t.Fatalf("call %+v", got)
				}
				return
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != tt.wantCode || e.Error.Message == "" {
				t.Fatalf("body %s, want code %q", rec.Body, tt.wantCode)
			}
			if !strings.Contains(e.Error.Message, tt.wantMsg) {
				t.Fatalf("message %q, want it to say %q", e.Error.Message, tt.wantMsg)
			}
		})
	}
}

func robotToken(context.Context, string) (recipes.APIToken, error) {
	return recipes.APIToken{Name: "robot", Hash: "hash-of-robot", Scopes: []string{recipes.ScopeCommands}}, nil
}

// registered is a registry holding only ids.
func registered(ids ...string) func(context.Context, string) (recipes.Device, error) {
	return func(_ context.Context, id string) (recipes.Device, error) {
		if !slices.Contains(ids, id) {
			return recipes.Device{}, recipes.Errorf(recipes.ENOTFOUND, "device %q not found", id)
		}
		return recipes.Device{ID: id, Model: "CM-100", Enabled: true}, nil
	}
}

// TestAPIDeviceCallRegistry: only registered devices are commanded, and
// with anonymous devices admitted, connected ones too.
func TestAPIDeviceCallRegistry(t *testing.T) {
	tests := []struct {
		name       string
		device     string
		anonymous  bool
		wantStatus int
	}{
		{"OK", "oven-1", false, 200},
		{"ErrNotFound", "oven-2", false, 404},
		{"ErrNotFoundConnected", "oven-3", false, 404},
		{"OKAnonymousConnected", "oven-3", true, 200},
		{"ErrNotFoundAnonymousOffline", "oven-2", true, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			apps := &fakeAppliances{connected: []string{"oven-1", "oven-3"}, CallFn: func(context.Context, admin.ApplianceCall) (admin.ApplianceAnswer, error) {
				called = true
				return admin.ApplianceAnswer{Status: 200, Body: json.RawMessage(`{"status":200}`)}, nil
			}}
			store := &fakeStore{APITokenFn: robotToken, DeviceFn: registered("oven-1")}
			h := MustServe(t, store, admin.Options{Appliances: apps, Presence: apps, AnonymousDevices: tt.anonymous})
			req := httptest.NewRequest(http.MethodPost, "/api/devices/"+tt.device+"/rpc", strings.NewReader(`{"method":"lid.lock"}`))
			req.Header.Set("Authorization", "Bearer secret")
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || called != (tt.wantStatus == 200) {
				t.Fatalf("status %d (device called: %v), want %d: %s", rec.Code, called, tt.wantStatus, rec.Body)
			}
		})
	}
}
