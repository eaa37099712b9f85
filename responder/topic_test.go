package responder

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
)

func TestCheckResponseTopic(t *testing.T) {
	tests := []struct {
		name, device, topic string
		ok                  bool
	}{
		{"OK", "oven-1", "devices/oven-1/replies", true},
		{"OKDeep", "oven-1", "devices/oven-1/a/b/c", true},
		{"ErrMissing", "oven-1", "", false},
		{"ErrOtherDevice", "oven-1", "devices/oven-2/replies", false},
		{"ErrPrefixOfOther", "oven-1", "devices/oven-10/replies", false},
		{"ErrPrefixOnly", "oven-1", "devices/oven-1/", false},
		{"ErrNoSlash", "oven-1", "devices/oven-1", false},
		{"ErrPlus", "oven-1", "devices/oven-1/+", false},
		{"ErrHash", "oven-1", "devices/oven-1/#", false},
		{"ErrRequestTopic", "oven-1", "recipes/soups", false},
		{"ErrSys", "oven-1", "$SYS/x", false},
		{"ErrNUL", "oven-1", "devices/oven-1/a\x00b", false},
		{"ErrBadUTF8", "oven-1", "devices/oven-1/\xff", false},
		{"ErrTooLong", "oven-1", "devices/oven-1/" + strings.Repeat("a", 2000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			why := checkResponseTopic(tt.device, tt.topic)
			if got := why == ""; got != tt.ok {
				t.Fatalf("checkResponseTopic(%q, %q) = %q, want ok=%v", tt.device, tt.topic, why, tt.ok)
			}
		})
	}
}

func TestValidDeviceID(t *testing.T) {
	for id, want := range map[string]bool{
		"oven-1": true, "CM300_ab12": true, "": false, "a/b": false, "a+b": false,
		"a#": false, "$sys": false, "a\x01": false, strings.Repeat("x", 129): false,
	} {
		if got := validDeviceID(id); got != want {
			t.Errorf("validDeviceID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestParseRequestTopic(t *testing.T) {
	tests := []struct {
		topic string
		want  recipes.Query
		code  string
	}{
		{"recipes/categories", recipes.Query{}, ""},
		{"recipes/soups", recipes.Query{Category: "soups"}, ""},
		{"recipes/soups/tomato-soup", recipes.Query{Category: "soups", RecipeID: "tomato-soup"}, ""},
		{"recipes/Soups", recipes.Query{}, recipes.ENOTFOUND},
		{"recipes/", recipes.Query{}, recipes.ENOTFOUND},
		{"recipes/soups/", recipes.Query{}, recipes.ENOTFOUND},
		{"recipes/soups/a/b", recipes.Query{}, recipes.ENOTFOUND},
		{"devices/x", recipes.Query{}, recipes.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			got, err := parseRequestTopic(tt.topic)
			if code := recipes.ErrorCode(err); code != tt.code {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.code)
			}
			if diff := cmp.Diff(tt.want, got); tt.code == "" && diff != "" {
				t.Fatalf("query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePayload(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		payload     string
		want        recipes.Query
		errCode     string
	}{
		{"OKEmpty", "", "", recipes.Query{}, ""},
		{"OKSpaces", "", "  \n", recipes.Query{}, ""},
		{"OKAll", "application/json", `{"q":"tomato","limit":5,"cursor":"abc","extra":[1]}`, recipes.Query{Text: "tomato", Limit: 5, Cursor: "abc"}, ""},
		{"OKCharset", "application/json; charset=utf-8", `{}`, recipes.Query{}, ""},
		{"ErrNotObject", "", `[1,2]`, recipes.Query{}, recipes.EINVALID},
		{"ErrNotJSON", "", `hello`, recipes.Query{}, recipes.EINVALID},
		{"ErrTruncated", "", `{"q":`, recipes.Query{}, recipes.EINVALID},
		{"ErrLimitString", "", `{"limit":"5"}`, recipes.Query{}, recipes.EINVALID},
		{"ErrLimitFraction", "", `{"limit":2.5}`, recipes.Query{}, recipes.EINVALID},
		{"ErrLimitZero", "", `{"limit":0}`, recipes.Query{}, recipes.EINVALID},
		{"ErrQNumber", "", `{"q":5}`, recipes.Query{}, recipes.EINVALID},
		{"ErrCursorNumber", "", `{"cursor":5}`, recipes.Query{}, recipes.EINVALID},
		{"ErrContentType", "text/plain", `{}`, recipes.Query{}, recipes.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q recipes.Query
			err := parsePayload(tt.contentType, []byte(tt.payload), &q)
			if code := recipes.ErrorCode(err); code != tt.errCode {
				t.Fatalf("code = %q (%v), want %q", code, err, tt.errCode)
			}
			if diff := cmp.Diff(tt.want, q); tt.errCode == "" && diff != "" {
				t.Fatalf("query (-want +got):\n%s", diff)
			}
		})
	}
}
