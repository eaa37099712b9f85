package responder

import (
	"bytes"
	"slices"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/session"
)

// The devices a call can reach, and their answers.

// commandable reports why device d cannot take a command on topic now.
func commandable(d *session.Device, topic string) error {
	online, subscribed := d.Listening(topic)
	if !online {
		return recipes.ErrCallOffline
	}
	if !subscribed {
		return &recipes.CallError{Code: recipes.CallOffline, Reason: "device not subscribed to its rpc request topic " + topic}
	}
	return nil
}

// rpcAnswer takes an answer a device published on its rpc/response topic.
// It runs on the device's goroutine, so it only hands the payload over.
// Answers nobody waits for (late, duplicated, forged, or bound to another
// device) are dropped and counted.
func (r *Responder) rpcAnswer(cl *mqtt.Client, pk packets.Packet) {
	c := r.calls.take(string(pk.Properties.CorrelationData), cl.ID)
	if c == nil {
		r.stats.answersDropped.Add(1)
		return
	}
	c.done <- callOutcome{payload: bytes.Clone(pk.Payload)}
}

// Connected reports whether device id is connected now.
func (r *Responder) Connected(id string) bool {
	d := r.devices.Get(id)
	return d != nil && d.Client() != nil
}

// ConnectedDevices returns the IDs of the devices connected now, sorted.
func (r *Responder) ConnectedDevices() []string {
	var ids []string
	for _, d := range r.devices.All() {
		if d.Client() != nil {
			ids = append(ids, d.ID())
		}
	}
	slices.Sort(ids)
	return ids
}
