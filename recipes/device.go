package recipes

import (
	"slices"
	"strings"
	"time"
)

// MaxDeviceIDLength is the longest device ID; it is also the device's MQTT
// client ID and a topic level of devices/<id>/.
const MaxDeviceIDLength = 128

// Device is one appliance known to the server. Its secret is never part of
// it: the store keeps only a hash, and the secret is shown once when issued.
type Device struct {
	ID    string `json:"id"`
	Model string `json:"model"` // one of Models; decides which recipes it sees

	// Enabled devices may connect; disabling one refuses its next CONNECT.
	Enabled bool `json:"enabled"`

	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen,omitzero"` // last connect or disconnect, updated lazily
}

// ErrBadDeviceCredentials is returned when a device cannot be admitted: it
// is unknown, disabled, or gave the wrong secret. The three are one error on
// purpose, so that a caller cannot probe which device IDs exist.
var ErrBadDeviceCredentials = &Error{Code: EINVALID, Message: "unknown device, disabled device or wrong secret"}

// Validate returns a *ValidationError listing every problem with d.
func (d *Device) Validate() error {
	var p problems
	if !ValidDeviceID(d.ID) {
		p.add("id", "%q must be 1 to %d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", d.ID, MaxDeviceIDLength)
	}
	if !slices.Contains(Models, d.Model) {
		p.add("model", "%q is not a known appliance model (%s)", d.Model, strings.Join(Models, ", "))
	}
	return p.err("device", d.ID)
}

// ValidDeviceID reports whether id can be registered as a device. IDs are
// MQTT client IDs and topic levels and are typed into shells and URLs, so
// they are kept to a small, unambiguous alphabet.
func ValidDeviceID(id string) bool {
	if id == "" || len(id) > MaxDeviceIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}
