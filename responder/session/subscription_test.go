package session

import "testing"

func TestMatchFilter(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"devices/a/#", "devices/a/replies", true},
		{"devices/a/#", "devices/a", true},
		{"devices/a/#", "devices/ab/replies", false},
		{"devices/a/+", "devices/a/replies", true},
		{"devices/a/+", "devices/a/replies/x", false},
		{"devices/a/replies", "devices/a/replies", true},
		{"devices/a/replies", "devices/a/reply", false},
		{"devices/+/replies", "devices/a/replies", true},
		{"#", "anything/at/all", true},
	}
	for _, tt := range tests {
		if got := matchFilter(tt.filter, tt.topic); got != tt.want {
			t.Errorf("matchFilter(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}
