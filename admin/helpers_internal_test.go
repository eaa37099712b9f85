package admin

import (
	"strings"
	"testing"
	"time"
)

func TestLoginThrottleBuckets(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLoginThrottle(2, 3, 4, time.Minute)
	fail := func(client, account string) {
		t.Helper()
		if limit, _ := l.admit(client, account, now); limit != "" {
			t.Fatalf("%s on %s refused by the %s limit", client, account, limit)
		}
		l.failed(client, account, now)
	}
	fail("192.0.2.1", "alice")
	fail("192.0.2.1", "alice")
	if limit, wait := l.admit("192.0.2.1", "alice", now); limit != limitPair || wait != 30*time.Second {
		t.Fatalf("third failure in a row: limit %q, wait %s; want %q, 30s", limit, wait, limitPair)
	}
	if limit, _ := l.admit("192.0.2.1", "alice", now.Add(30*time.Second)); limit != "" {
		t.Fatalf("refused by %q after refilling one token", limit)
	}
	l.succeeded("192.0.2.1", "alice")
	fail("192.0.2.1", "bob") // the address's third failure
	if limit, _ := l.admit("192.0.2.1", "carol", now); limit != limitAddress {
		t.Fatalf("fourth account from one address: limit %q, want %q", limit, limitAddress)
	}
	fail("198.51.100.1", "alice")
	fail("198.51.100.1", "alice") // alice's fourth failure
	if limit, _ := l.admit("198.51.100.2", "alice", now); limit != limitAccount {
		t.Fatalf("fifth failure of one account: limit %q, want %q", limit, limitAccount)
	}
}

func TestAddressKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		if got := addressKey(tt.in); got != tt.want {
			t.Errorf("addressKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAccountKey(t *testing.T) {
	if got := accountKey(" alice "); got != "alice" {
		t.Errorf("accountKey(alice) = %q", got)
	}
	long := strings.Repeat("x", 1<<20)
	if got := accountKey(long); len(got) > 40 || got == accountKey(long+"y") {
		t.Errorf("accountKey of a long name = %q", got)
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
