package recipes_test

import (
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

func TestAPITokenScopes(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		allows map[string]bool
	}{
		// Stored before tokens had scopes: what such a token could do then.
		{"Legacy", nil, map[string]bool{"catalog": true, "devices": false, "commands": true}},
		{"Catalog", []string{"catalog"}, map[string]bool{"catalog": true, "devices": false, "commands": false}},
		{"Devices", []string{"devices", "commands"}, map[string]bool{"catalog": false, "devices": true, "commands": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := recipes.APIToken{Name: "t", Scopes: tt.scopes}
			for scope, want := range tt.allows {
				if got := tok.Allows(scope); got != want {
					t.Errorf("Allows(%s) = %v, want %v", scope, got, want)
				}
			}
		})
	}
}

func TestCheckScopes(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		msg    string
	}{
		{"OK", []string{"catalog", "devices", "commands"}, ""},
		{"ErrEmpty", nil, "choose at least one scope (catalog, devices, commands, metrics, audit)"},
		{"ErrUnknown", []string{"catalog", "admin"}, `"admin" is not a scope (catalog, devices, commands, metrics, audit)`},
		{"ErrTwice", []string{"devices", "devices"}, `scope "devices" is given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := recipes.CheckScopes(tt.scopes)
			if got := recipes.ErrorMessage(err); err != nil && got != tt.msg || err == nil && tt.msg != "" {
				t.Fatalf("CheckScopes(%q) = %v, want %q", tt.scopes, err, tt.msg)
			}
			if err != nil && recipes.ErrorCode(err) != recipes.EINVALID {
				t.Fatalf("code %q", recipes.ErrorCode(err))
			}
		})
	}
}
