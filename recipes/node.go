package recipes

import "time"

// Node is one recipesd process of a cluster, as the node registry in Redis
// knows it.
type Node struct {
	ID      string `json:"id"`
	Addr    string `json:"mqtt_addr"` // advertised MQTT address: where devices can reach it
	Version string `json:"version"`   // the module version it runs, or "dev"
	Devices int    `json:"devices"`   // devices connected to it at its last heartbeat

	StartedAt     time.Time `json:"started_at"`
	LastHeartbeat time.Time `json:"last_heartbeat"`

	// Draining nodes accept no new devices and move theirs elsewhere.
	Draining bool `json:"draining"`
	// Alive is false once its last heartbeat is older than its liveness
	// bound: it has stopped, crashed or lost Redis.
	Alive bool `json:"alive"`
}
