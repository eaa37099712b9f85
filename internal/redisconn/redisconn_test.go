package redisconn_test

import (
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/redisconn"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		{"OK", "redis://127.0.0.1:6379/0", ""},
		{"OKCluster", "redis+cluster://127.0.0.1:7000", ""},
		{"OKSentinel", "redis://127.0.0.1:26379/0?master_name=m", ""},
		{"ErrUnknownParameter", "redis://127.0.0.1:6379/0?nonsense=1", "nonsense"},
		{"ErrUnparsable", "redis://user:s3cret@[::1/0", "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb, err := redisconn.New(tt.url, 0)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%q) = %v", tt.url, err)
				}
				_ = rdb.Close()
				return
			}
			if err == nil {
				_ = rdb.Close()
				t.Fatalf("New(%q) succeeded, want an error containing %q", tt.url, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("New(%q) = %v, want an error containing %q and no password", tt.url, err, tt.wantErr)
			}
		})
	}
}
