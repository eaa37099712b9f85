package recipes

import (
	"errors"
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

	// Locale is the BCP 47 tag of the language the appliance shows;
	// empty means the catalog's default. A request may ask for another.
	Locale string `json:"locale,omitempty"`

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
	if d.Locale != "" {
		validateLanguageKey(&p, "locale", d.Locale)
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

// DeviceRecord is a device as catalog files and exports hold it, for
// provisioning a fleet: its registration and, instead of its secret, the
// secret's hash. Plaintext secrets never appear in files.
type DeviceRecord struct {
	ID    string `json:"id"`
	Model string `json:"model"` // one of Models

	// Locale is the device's BCP 47 language tag in its canonical form
	// (see [Device.Locale]). Empty is not given: a new device has none,
	// a registered one keeps its own.
	Locale string `json:"locale,omitempty"`

	// Enabled is nil when not given: a new device is enabled. A
	// registered one keeps its flag unless [DeviceImport.Update].
	Enabled *bool `json:"enabled,omitempty"`

	// SecretHash is the stored form of the device's secret: "sha256:" and
	// the 64 lower-case hex digits of the SHA-256 of the secret (as
	// `printf %s "$SECRET" | sha256sum` prints them). A registered
	// device keeps its secret if it is empty or without
	// [DeviceImport.Update]; a new device without one needs one issued.
	SecretHash string `json:"secret_hash,omitempty"`
}

// IsEnabled reports whether a new device made from d may connect: Enabled,
// or true when Enabled is not given.
func (d *DeviceRecord) IsEnabled() bool { return d.Enabled == nil || *d.Enabled }

// SecretHashPrefix starts every [DeviceRecord.SecretHash].
const SecretHashPrefix = "sha256:"

// ValidSecretHash reports whether h is a secret hash in its stored form:
// [SecretHashPrefix] and 64 lower-case hex digits.
func ValidSecretHash(h string) bool {
	hex, ok := strings.CutPrefix(h, SecretHashPrefix)
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Validate returns a *ValidationError listing every problem with d.
func (d *DeviceRecord) Validate() error {
	var p problems
	dev := Device{ID: d.ID, Model: d.Model, Locale: d.Locale}
	var ve *ValidationError
	if err := dev.Validate(); err != nil && errors.As(err, &ve) {
		p.fields = append(p.fields, ve.Fields...)
	}
	if d.SecretHash != "" && !ValidSecretHash(d.SecretHash) {
		// The value is not repeated: it may be a secret pasted by mistake.
		p.add("secret_hash", `must be "sha256:" and the 64 lower-case hex digits of the SHA-256 of the secret, `+
			`as printf %%s "$SECRET" | sha256sum prints them (the value given is not shown, in case it is a secret)`)
	}
	return p.err("device", d.ID)
}

// DeviceImport is devices to register in bulk, as a seed from files does,
// and how to treat those already registered.
type DeviceImport struct {
	Devices []DeviceRecord

	// Update lets a registered device take the secret hash and enabled
	// flag given for it, to restore a backup or re-key a fleet by file.
	// Without it a registered device gets only the model given and keeps
	// what staff may have changed since the file was written: re-seeding
	// it must not give back a secret rotated because it leaked, nor
	// re-enable a device disabled because it was stolen.
	Update bool
}

// DeviceChange is what importing a [DeviceImport] does, or would do, to
// one device.
type DeviceChange struct {
	ID string
	// Op is ItemAdded or ItemChanged, or empty when the device is left as
	// registered and only KeptSecret or KeptEnabled is set.
	Op ChangeOp

	// What changes in a registered device.
	FromModel, Model   string // set when its model changes
	FromLocale, Locale string // set when its locale changes
	NewSecret          bool   // its secret hash, and so its secret, is replaced
	Enabled            *bool  // set when its enabled flag changes: the new flag

	// What the import gives differently for a registered device but left
	// as registered, for want of [DeviceImport.Update].
	KeptSecret, KeptEnabled bool
}

// NormalizeLocale returns tag in its canonical form if it is a language
// tag, so that staff may type "de-at" for "de-AT"; anything else comes
// back trimmed, for [Device.Validate] to say what is wrong with it.
func NormalizeLocale(tag string) string {
	tag = strings.TrimSpace(tag)
	if canon, err := ParseLanguage(tag); err == nil {
		return canon
	}
	return tag
}
