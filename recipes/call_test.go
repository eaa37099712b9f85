package recipes_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

func TestCallError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		is       error
		wantCode string
		wantText string
	}{
		{"Offline", recipes.ErrCallOffline, recipes.ErrCallOffline, recipes.CallOffline, "call: device offline"},
		{"NotListening", &recipes.CallError{Code: recipes.CallOffline, Reason: "device not subscribed to x"}, recipes.ErrCallOffline,
			recipes.CallOffline, "call: device not subscribed to x"},
		{"Timeout", fmt.Errorf("wrapped: %w", &recipes.CallError{Code: recipes.CallTimeout, Timeout: 250 * time.Millisecond}), recipes.ErrCallTimeout,
			recipes.CallTimeout, "wrapped: call: no answer in time (250 ms)"},
		{"TooLarge", &recipes.CallError{Code: recipes.CallTooLarge, Size: 3000, Limit: 1024}, recipes.ErrCallTooLarge,
			recipes.CallTooLarge, "call: command larger than the device accepts: 3000 bytes, it accepts at most 1024"},
		{"CallerKeys", &recipes.CallError{Code: recipes.CallTooManyKeys, Limit: 3, Caller: true}, recipes.ErrCallTooManyKeys,
			recipes.CallTooManyKeys, "call: too many idempotency keys remembered for this caller (3)"},
		{"Cause", &recipes.CallError{Code: recipes.CallGone, Err: context.Canceled}, context.Canceled,
			recipes.CallGone, "call: device disconnected before answering: context canceled"},
		{"NotACall", errors.New("boom"), nil, "", "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recipes.CallErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("code %q, want %q", got, tt.wantCode)
			}
			if got := tt.err.Error(); got != tt.wantText {
				t.Errorf("text %q, want %q", got, tt.wantText)
			}
			if tt.is != nil && !errors.Is(tt.err, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", tt.err, tt.is)
			}
			// Another outcome never matches.
			if tt.wantCode != recipes.CallBusy && errors.Is(tt.err, recipes.ErrCallBusy) {
				t.Errorf("%v is ErrCallBusy", tt.err)
			}
		})
	}
}
