package responder

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
)

// Commands to devices (PROTOCOL.md §4, "RRPC"). A call publishes one QoS 1
// request through the device's outbox, the only safe way to send QoS 1 to
// a device (see the package comment), and waits for the answer the device
// publishes on devices/<id>/rpc/response with the call's Correlation Data.
// Calls that get no answer return a [*recipes.CallError] (its codes are
// the outcomes of PROTOCOL.md §4); one that returns [recipes.CallOffline]
// published nothing.

// CallResult is a device's answer to a call.
type CallResult struct {
	Status int             // the answer's "status"
	Body   json.RawMessage // the answer exactly as the device sent it
}

// rpcRequestTopic and rpcResponseTopic are device id's command topics.
func rpcRequestTopic(id string) string  { return devicePrefix + id + "/rpc/request" }
func rpcResponseTopic(id string) string { return devicePrefix + id + "/rpc/response" }

// CommandTopic returns the topic device id subscribes to for commands:
// [Responder.Call] sends nothing to a device that has not.
func (r *Responder) CommandTopic(id string) string { return rpcRequestTopic(id) }

// Call outcomes, as counted in [Stats.Calls].
// A failed call is counted under its [recipes.CallError] code.
var callOutcomes = [...]string{"answered", recipes.CallOffline, recipes.CallTimeout, recipes.CallGone, "canceled",
	recipes.CallBadAnswer, recipes.CallBusy, recipes.CallTooLarge}

const (
	outAnswered = iota
	outOffline
	outTimeout
	outGone
	outCanceled
	outBadAnswer
	outBusy
	outTooLarge
)

// Call sends method with params to device deviceID and waits up to timeout
// for its answer (PROTOCOL.md §4). It returns a [*recipes.CallError]:
// [recipes.CallOffline] at once, without publishing, when the device
// cannot receive the command; [recipes.CallTooLarge] or [recipes.CallBusy],
// also without publishing; [recipes.CallTimeout], [recipes.CallGone] or
// [recipes.CallBadAnswer] for the other failures; or ctx's error. Any
// number of calls to one device may be in flight.
func (r *Responder) Call(ctx context.Context, deviceID, method string, params json.RawMessage, timeout time.Duration) (CallResult, error) {
	start := time.Now()
	res, out, err := r.call(ctx, deviceID, method, params, timeout)
	r.stats.called(out, time.Since(start))
	return res, err
}

func (r *Responder) call(ctx context.Context, deviceID, method string, params json.RawMessage, timeout time.Duration) (CallResult, int, error) {
	r.gate.RLock()
	closing := r.closing || r.server == nil
	r.gate.RUnlock()
	if closing {
		return CallResult{}, outOffline, &recipes.CallError{Code: recipes.CallOffline, Err: errShuttingDown}
	}
	body, err := json.Marshal(struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params,omitempty"`
	}{method, params})
	if err != nil {
		return CallResult{}, outBadAnswer, fmt.Errorf("responder: call %s: encode params: %w", method, err)
	}
	d := r.devices.Get(deviceID)
	if d == nil {
		return CallResult{}, outOffline, recipes.ErrCallOffline
	}
	corr := make([]byte, 16)
	_, _ = rand.Read(corr)
	secs := max(int64((timeout+time.Second-1)/time.Second), 1)
	now := time.Now().Unix()
	pk := &packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
		TopicName:   rpcRequestTopic(deviceID),
		Payload:     body,
		Properties: packets.Properties{
			ContentType:       "application/json",
			PayloadFormat:     1,
			PayloadFormatFlag: true,
			ResponseTopic:     rpcResponseTopic(deviceID),
			CorrelationData:   corr,
		},
		Created: now,
		Expiry:  now + secs, // WritePacket turns this into the Message Expiry Interval
	}

	// Register before checking that the device is online: a disconnect
	// after the check then finds the call in sessionEnded and fails it.
	c := &pendingCall{device: deviceID, done: make(chan callOutcome, 1)}
	r.calls.add(string(corr), c)
	if err := commandable(d, pk.TopicName); err != nil {
		r.calls.take(string(corr), "")
		return CallResult{}, outOffline, err
	}
	if max := d.MaxPacketSize(); max > 0 && d.Shape(pk) && packetSize(pk) > int(max) {
		r.calls.take(string(corr), "")
		return CallResult{}, outTooLarge, &recipes.CallError{Code: recipes.CallTooLarge, Size: packetSize(pk), Limit: int(max)}
	}
	if !d.Deliver(pk, false, true) {
		if r.calls.take(string(corr), "") != nil {
			return CallResult{}, outBusy, recipes.ErrCallBusy
		}
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var o callOutcome
	select {
	case o = <-c.done:
	case <-timer.C:
		if r.calls.take(string(corr), "") != nil {
			return CallResult{}, outTimeout, &recipes.CallError{Code: recipes.CallTimeout, Timeout: timeout}
		}
		o = <-c.done // answered or failed at the same moment
	case <-ctx.Done():
		if r.calls.take(string(corr), "") != nil {
			return CallResult{}, outCanceled, ctx.Err()
		}
		o = <-c.done
	}
	if o.err != nil {
		return CallResult{}, outGone, o.err
	}
	var ans struct {
		Status *int `json:"status"`
	}
	if err := json.Unmarshal(o.payload, &ans); err != nil || ans.Status == nil || bytes.TrimSpace(o.payload)[0] != '{' {
		return CallResult{}, outBadAnswer, recipes.ErrCallBadAnswer
	}
	return CallResult{Status: *ans.Status, Body: o.payload}, outAnswered, nil
}
