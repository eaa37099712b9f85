package recipes

// DeviceUpdate changes a registered device; nil fields stay as they are.
type DeviceUpdate struct {
	Model   *string `json:"model"`
	Enabled *bool   `json:"enabled"`

	// Locale is the device's BCP 47 language tag, written in any case
	// ("de-at" is stored as "de-AT"); "" clears it (the catalog's default).
	Locale *string `json:"locale"`
}
