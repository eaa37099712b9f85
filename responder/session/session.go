// Package session holds the device sessions of the MQTT server: each
// device's outbox (its own packet identifiers, flow control and resending,
// replacing mochi's delivery, which deadlocks on QoS 1 from another
// goroutine and leaks send quota in mochi v2.7.9), its subscriptions, its
// request budget and strikes, the registry of sessions, and the batching
// of last-seen times.
//
// It knows nothing of requests and replies: the layer above decides what
// to deliver and when to disconnect a device.
package session
