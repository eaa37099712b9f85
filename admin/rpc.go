package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Appliances sends commands to connected appliances and waits for their
// answers (PROTOCOL.md §4).
type Appliances interface {
	// Call sends c to its device and returns the device's answer, or a
	// *recipes.CallError when it got none.
	Call(ctx context.Context, c ApplianceCall) (ApplianceAnswer, error)

	// CommandTopic returns the topic device id must subscribe to for
	// commands, which staff are told when it has not.
	CommandTopic(id string) string
	// IdempotencyWindow returns how long the outcome of a call with an
	// IdempotencyKey is remembered.
	IdempotencyWindow() time.Duration
}

// ApplianceCall is one command to one device.
type ApplianceCall struct {
	Device  string
	Method  string
	Params  json.RawMessage
	Timeout time.Duration
	// IdempotencyKey, if set, makes a retried call return the first
	// call's outcome instead of commanding the device again. Keys belong
	// to Caller: another caller's same key is another call.
	IdempotencyKey string
	// Caller is who calls: "token:" and the API token's hash, or "staff:"
	// and the staff account's name.
	Caller string
}

// ApplianceAnswer is a device's answer, exactly as it sent it.
type ApplianceAnswer struct {
	Status int
	Body   json.RawMessage
	// Replayed: the outcome (this answer, or the error returned with it)
	// is the remembered one of the first call with the same
	// IdempotencyKey; nothing was sent this time.
	Replayed bool
}

// callStatuses maps the outcomes of calls that got no answer to HTTP
// statuses and error codes.
var callStatuses = map[string]struct {
	status int
	code   string
}{
	recipes.CallOffline:     {http.StatusConflict, "offline"},
	recipes.CallTimeout:     {http.StatusGatewayTimeout, "timeout"},
	recipes.CallGone:        {http.StatusGatewayTimeout, "disconnected"},
	recipes.CallBusy:        {http.StatusServiceUnavailable, "busy"},
	recipes.CallBadAnswer:   {http.StatusBadGateway, "bad_answer"},
	recipes.CallTooLarge:    {http.StatusRequestEntityTooLarge, "too_large"},
	recipes.CallKeyReused:   {http.StatusUnprocessableEntity, "idempotency_key_reused"},
	recipes.CallTooManyKeys: {http.StatusServiceUnavailable, "busy"},
}

// Limits of an API call's timeout_ms.
const (
	minCallTimeout     = 100 * time.Millisecond
	maxCallTimeout     = 30 * time.Second
	defaultCallTimeout = 5 * time.Second
)

// callDevice runs c and returns the device's answer, or the error to
// report: an *echo.HTTPError for failures that are not domain errors.
// Only registered devices are called, and, when the server admits
// anonymous devices, connected ones.
func (s *Server) callDevice(ctx context.Context, c ApplianceCall) (ApplianceAnswer, error) {
	apps := s.opts.Appliances
	if apps == nil {
		return ApplianceAnswer{}, echo.NewHTTPError(http.StatusServiceUnavailable, "This server cannot command appliances.")
	}
	if !recipes.ValidDeviceID(c.Device) {
		return ApplianceAnswer{}, recipes.Errorf(recipes.ENOTFOUND, "Device %q not found.", c.Device)
	}
	if _, err := s.store.Device(ctx, c.Device); err != nil {
		if recipes.ErrorCode(err) != recipes.ENOTFOUND || !s.opts.AnonymousDevices {
			return ApplianceAnswer{}, err
		}
		// An unregistered device connected anonymously, to any node.
		conns, perr := s.connections(ctx, []string{c.Device})
		if perr != nil {
			return ApplianceAnswer{}, perr
		}
		if len(conns) == 0 {
			return ApplianceAnswer{}, err
		}
	}
	ans, err := apps.Call(ctx, c)
	if err == nil {
		return ans, nil
	}
	return ans, s.callError(c, err, ans.Replayed)
}

// callError turns a failed call into the precise error the caller sees.
// Its messages are the server's own: they never quote what a device sent.
// A replayed outcome is described as the original call's.
func (s *Server) callError(c ApplianceCall, err error, replayed bool) error {
	var ce *recipes.CallError
	if !errors.As(err, &ce) {
		return err
	}
	cs, ok := callStatuses[ce.Code]
	if !ok {
		return err
	}
	var msg string
	window := s.opts.Appliances.IdempotencyWindow()
	switch ce.Code {
	case recipes.CallOffline:
		msg = fmt.Sprintf("Appliance %s is offline (not connected, or not subscribed to %s); nothing was sent.", c.Device, s.opts.Appliances.CommandTopic(c.Device))
		if ce.Node != "" {
			msg = fmt.Sprintf("Appliance %s is offline: node %s, which held its connection, is gone; nothing was sent.", c.Device, ce.Node)
		}
	case recipes.CallTimeout:
		// The call's own timeout: for a replayed outcome, the first call's.
		timeout := cmp.Or(ce.Timeout, c.Timeout)
		msg = fmt.Sprintf("Appliance %s did not answer within %d ms.", c.Device, timeout.Milliseconds())
	case recipes.CallGone:
		msg = fmt.Sprintf("Appliance %s: appliance disconnected before answering.", c.Device)
	case recipes.CallBusy:
		msg = fmt.Sprintf("Appliance %s: appliance busy.", c.Device)
	case recipes.CallBadAnswer:
		msg = fmt.Sprintf("Appliance %s: appliance sent a malformed answer.", c.Device)
	case recipes.CallTooLarge:
		msg = fmt.Sprintf("Appliance %s: command larger than the appliance accepts (%d bytes; it accepts at most %d); nothing was sent.", c.Device, ce.Size, ce.Limit)
	case recipes.CallKeyReused:
		msg = fmt.Sprintf("The Idempotency-Key %q was already used for a different command to %s within the last %s; nothing was sent. Use a new key for a new command.", c.IdempotencyKey, c.Device, spell(window))
	case recipes.CallTooManyKeys:
		msg = "The server remembers too many idempotency keys right now; nothing was sent. Retry later, or without an Idempotency-Key."
		if ce.Caller {
			msg = fmt.Sprintf("You already have %d idempotency keys remembered (each for %s), as many as one caller may; nothing was sent. Retry later, or without an Idempotency-Key.", ce.Limit, spell(window))
		}
	}
	if replayed {
		msg += fmt.Sprintf(" This is the remembered outcome of the first call with the Idempotency-Key %q; nothing was sent now.", c.IdempotencyKey)
	}
	he := echo.NewHTTPError(cs.status, msg).SetInternal(err)
	return &callFailure{HTTPError: he, code: cs.code}
}

// spell writes d for people: "10 minutes", "90 seconds".
func spell(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute", "minutes")
	case d%time.Second == 0:
		return plural(int(d/time.Second), "second", "seconds")
	}
	return d.String()
}

// callFailure is a call that got no answer; it is sent without logging.
type callFailure struct {
	*echo.HTTPError
	code string
}

func (f *callFailure) Unwrap() error { return f.HTTPError }

// apiDeviceCall is POST /api/devices/:id/rpc.
func (s *Server) apiDeviceCall(c echo.Context) error {
	var in struct {
		Method    string          `json:"method"`
		Params    json.RawMessage `json:"params"`
		TimeoutMS *int            `json:"timeout_ms"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	tok, _ := c.Get(tokenKey).(recipes.APIToken)
	call := ApplianceCall{
		Device:         param(c, "id"),
		Method:         in.Method,
		Params:         in.Params,
		Timeout:        defaultCallTimeout,
		IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
		// The hash, not the name: a token revoked and issued again under
		// the same name is another caller.
		Caller: "token:" + tok.Hash,
	}
	noteAudit(c, "", "method="+in.Method)
	if in.Method == "" || len(in.Method) > 128 {
		return recipes.Errorf(recipes.EINVALID, "method is required (at most 128 bytes), e.g. \"recipe.install\"")
	}
	if in.TimeoutMS != nil {
		call.Timeout = time.Duration(*in.TimeoutMS) * time.Millisecond
		if call.Timeout < minCallTimeout || call.Timeout > maxCallTimeout {
			return recipes.Errorf(recipes.EINVALID, "timeout_ms must be between %d and %d, not %d",
				minCallTimeout.Milliseconds(), maxCallTimeout.Milliseconds(), *in.TimeoutMS)
		}
	}
	if len(call.IdempotencyKey) > 200 {
		return recipes.Errorf(recipes.EINVALID, "the Idempotency-Key header is longer than 200 bytes")
	}
	ans, err := s.callDevice(c.Request().Context(), call)
	if ans.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	var f *callFailure
	if errors.As(err, &f) {
		var body apiError
		body.Error.Code, body.Error.Message = f.code, fmt.Sprint(f.Message)
		return c.JSON(f.Code, body)
	}
	if err != nil {
		return err
	}
	// The body is the device's words, not the server's: say so, since
	// its "error" looks like ours.
	c.Response().Header().Set("Answered-By", "appliance "+call.Device)
	return c.JSONBlob(http.StatusOK, ans.Body)
}
