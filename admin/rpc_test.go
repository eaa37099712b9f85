package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/recipes"
)

// fakeAppliances is an [admin.Appliances] made of function fields.
type fakeAppliances struct {
	CallFn func(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error)
}

var _ admin.Appliances = (*fakeAppliances)(nil)

func (f *fakeAppliances) Call(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error) {
	return f.CallFn(ctx, c)
}
func (f *fakeAppliances) Connected() []string { return nil }

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
		{"ErrOffline", `{"method":"lid.lock"}`, fmt.Errorf("%w: x", admin.ErrApplianceOffline), 409, "offline", ""},
		{"ErrTimeout", `{"method":"lid.lock","timeout_ms":250}`, admin.ErrApplianceTimeout, 504, "timeout", "within 250 ms."},
		// The timeout of the call that timed out, which for a replayed
		// outcome is not this request's.
		{"ErrTimeoutOriginal", `{"method":"lid.lock","timeout_ms":250}`, &admin.ApplianceTimeoutError{Timeout: 9 * time.Second}, 504, "timeout", "within 9000 ms."},
		{"ErrCallerKeysFull", `{"method":"lid.lock"}`, &admin.IdempotencyKeysError{Limit: 3, Caller: true}, 503, "busy", "You already have 3 idempotency keys remembered"},
		{"ErrServerKeysFull", `{"method":"lid.lock"}`, &admin.IdempotencyKeysError{Limit: 9, Caller: false}, 503, "busy", "The server remembers too many idempotency keys"},
		{"ErrGone", `{"method":"lid.lock"}`, admin.ErrApplianceGone, 504, "disconnected", ""},
		{"ErrBusy", `{"method":"lid.lock"}`, admin.ErrApplianceBusy, 503, "busy", ""},
		{"ErrBadAnswer", `{"method":"lid.lock"}`, admin.ErrApplianceBadAnswer, 502, "bad_answer", ""},
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
			store := &fakeStore{APITokenFn: func(context.Context, string) (recipes.APIToken, error) {
				return recipes.APIToken{Name: "robot", Hash: "hash-of-robot", Scopes: []string{recipes.ScopeCommands}}, nil
			}}
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
