package admin

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(3, time.Second)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if !l.allow("a", now) {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if l.allow("a", now) {
		t.Fatal("attempt beyond the burst allowed")
	}
	if !l.allow("b", now) {
		t.Fatal("another address shares the limit")
	}
	if !l.allow("a", now.Add(time.Second)) {
		t.Fatal("no token after refilling for one interval")
	}
	l.refund("a")
	if !l.allow("a", now.Add(time.Second)) {
		t.Fatal("a refunded token was not usable")
	}
}

func TestQuantile(t *testing.T) {
	b := []LatencyBucket{{Le: time.Millisecond, Count: 90}, {Le: 10 * time.Millisecond, Count: 9}, {Le: 0, Count: 1}}
	tests := []struct {
		name string
		q    float64
		want time.Duration
	}{
		{"p50", 0.5, time.Millisecond},
		{"p95", 0.95, 10 * time.Millisecond},
		{"p100", 1, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(b, tt.q); got != tt.want {
				t.Errorf("quantile(%g) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Soups & Stews", "soups-stews"},
		{"  Crème brûlée ", "creme-brulee"},
		{"Süße Brötchen", "susse-brotchen"},
		{"<script>alert(1)</script>", "script-alert-1-script"},
		{"日本", ""},
	}
	for _, tt := range tests {
		if got := slugify(tt.in); got != tt.want {
			t.Errorf("slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFieldLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"steps[2].temperature_c", "Step 3, temperature"},
		{"ingredients[0].name", "Ingredient 1, name"},
		{"tags[1]", "Tag 2"},
		{"total_minutes", "Total time"},
		{"id", "ID"},
	}
	for _, tt := range tests {
		if got := fieldLabel(tt.in); got != tt.want {
			t.Errorf("fieldLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/categories/soups?q=x", "/categories/soups?q=x"},
		{"", "/categories"},
		{"//evil.example", "/categories"},
		{"https://evil.example", "/categories"},
		{"/\\evil.example", "/categories"},
		{"/\t/evil.example/x", "/categories"},
		{"/%09/evil.example/x", "/categories"},
		{"/%2F/evil.example", "/categories"},
		{"/%252f/evil.example", "/categories"},
		{"/%25252f/evil.example", "/categories"},
		{"\\/evil.example", "/categories"},
		{"javascript:alert(1)", "/categories"},
		{"/%0d%0aSet-Cookie:x", "/categories"},
		{" /categories", "/categories"},
		{"/%ff", "/categories"},
		{"/caf\u00e9", "/categories"},
		{"/recipes/tomato-soup", "/recipes/tomato-soup"},
		{"/categories/a%2Fb", "/categories/a%2Fb"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 1, 1.5: 2, 3: 5, 7: 10, 12: 20, 480: 500, 1000: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%g) = %g, want %g", in, got, want)
		}
	}
}
