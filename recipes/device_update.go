package recipes

// DeviceUpdate changes a registered device; nil fields stay as they are.
type DeviceUpdate struct {
	Model   *string `json:"model"`
	Enabled *bool   `json:"enabled"`
}
