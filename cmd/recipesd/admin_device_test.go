package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// mustBeKicked waits for the server to end dev's session with DISCONNECT
// 0x98 (administrative action).
func mustBeKicked(tb testing.TB, dev *appliance.Client) {
	tb.Helper()
	select {
	case <-dev.Done():
	case <-time.After(5 * time.Second):
		tb.Fatalf("%s is still connected", dev.ID)
	}
	deadline := time.Now().Add(time.Second)
	for dev.ServerDisconnect() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if d := dev.ServerDisconnect(); d == nil || d.ReasonCode != 0x98 {
		tb.Fatalf("%s: server DISCONNECT %+v, want reason 0x98", dev.ID, d)
	}
}

var deviceSecretRE = regexp.MustCompile(`<code class="token" id="device-secret">([^<]+)</code>`)

func pageSecret(tb testing.TB, p *webPage) string {
	tb.Helper()
	m := deviceSecretRE.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no secret on the page:\n%s", excerpt(p.Body))
	}
	return m[1]
}

// TestAdminDevices drives the device pages as staff would and checks each
// change over MQTT: what a real appliance with those credentials gets.
func TestAdminDevices(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	ctx := context.Background()
	top := t // sessions opened in a subtest outlive it

	// Register: the secret is shown once and works.
	p := w.Post("/devices", url.Values{"id": {"fridge-1"}, "model": {"CM-200"}}).Want(200).
		Has(t, "Device “fridge-1” registered", "CM-200")
	secret := pageSecret(t, p)
	dev := s.MustDial(t, appliance.Options{ID: "fridge-1", Password: secret})
	p = w.Get("/devices").Want(200).Has(t, "fridge-1", "CM-200", "Connected")
	if strings.Contains(p.Body, secret) {
		t.Fatal("the device list shows the secret")
	}
	if strings.Contains(w.Get("/devices/fridge-1").Want(200).Has(t, "Disable and disconnect").Body, secret) {
		t.Fatal("the device page shows the secret again")
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		before, err := s.Identity.DeviceIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, id, model, field, want string
		}{
			{"BadID", "a/b", "CM-100", "id", `"a/b" must be 1 to 128 letters, digits`},
			{"EmptyID", "", "CM-100", "id", `"" must be 1 to 128 letters`},
			{"Wildcard", "oven+", "CM-100", "id", `"oven+" must be`},
			{"UnknownModel", "oven-9", "CM-999", "model", `"CM-999" is not a known appliance model (CM-100, CM-200, CM-300, CM-300X)`},
			{"Taken", "fridge-1", "CM-100", "id", `device "fridge-1" already exists`},
			{"BadLocale", "oven-9", "CM-100", "locale", `"de_AT!" is not a BCP 47 language tag`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				form := url.Values{"id": {tt.id}, "model": {tt.model}}
				if tt.field == "locale" {
					form.Set("locale", "de_AT!")
				}
				p := w.Post("/devices", form).Want(422)
				if got := p.FieldError(tt.field); !strings.Contains(got, tt.want) {
					t.Errorf("error next to %s: %q, want it to contain %q", tt.field, got, tt.want)
				}
				if deviceSecretRE.MatchString(p.Body) {
					t.Error("a secret is shown for a refused registration")
				}
			})
		}
		after, err := s.Identity.DeviceIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(before, after) {
			t.Fatalf("refused registrations changed the registry: %q → %q", before, after)
		}
	})

	t.Run("Model", func(t *testing.T) {
		p := w.Post("/devices/fridge-1/model", url.Values{"model": {"CM-999"}}).Want(422)
		if got := p.FieldError("model"); !strings.Contains(got, `"CM-999" is not a known appliance model`) {
			t.Errorf("error next to model: %q", got)
		}
		if d, _ := s.Identity.Device(ctx, "fridge-1"); d.Model != "CM-200" {
			t.Fatalf("a refused model change changed the model to %q", d.Model)
		}
		// Choosing the model it has changes nothing and keeps its session.
		w.Post("/devices/fridge-1/model", url.Values{"model": {"CM-200"}}).Want(303)
		w.Get("/devices/fridge-1").Want(200).Has(t, "fridge-1 is a CM-200 already; nothing changed.")
		if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
			t.Fatalf("after an unchanged model the device asks: %v %v", r, err)
		}
		w.Post("/devices/fridge-1/model", url.Values{"model": {"CM-100"}}).Want(303)
		// The session was admitted as a CM-200: it ends, so that the
		// device reconnects as what it now is.
		mustBeKicked(t, dev)
		w.Get("/devices/fridge-1").Want(200).Has(t, "fridge-1 is now a CM-100.")
		dev = s.MustDial(top, appliance.Options{ID: "fridge-1", Password: secret})
	})

	t.Run("Locale", func(t *testing.T) {
		p := w.Post("/devices/fridge-1/locale", url.Values{"locale": {"de_AT!"}}).Want(422)
		if got := p.FieldError("locale"); !strings.Contains(got, `"de_AT!" is not a BCP 47 language tag`) {
			t.Errorf("error next to locale: %q", got)
		}
		if !strings.Contains(p.Body, `value="de_AT!"`) {
			t.Error("the refused locale is not shown as typed")
		}
		if d, _ := s.Identity.Device(ctx, "fridge-1"); d.Locale != "" {
			t.Fatalf("a refused locale was stored: %q", d.Locale)
		}
		// Stored canonical; the session, admitted speaking the default,
		// ends so that the device's next request is answered in de-AT.
		w.Post("/devices/fridge-1/locale", url.Values{"locale": {"de-at"}}).Want(303)
		mustBeKicked(t, dev)
		if p := w.Get("/devices/fridge-1").Want(200).Has(t, "fridge-1 now speaks de-AT.", "CM-100 · de-AT"); !strings.Contains(p.Body, `value="de-AT"`) {
			t.Error("the locale field does not show de-AT")
		}
		if d, _ := s.Identity.Device(ctx, "fridge-1"); d.Locale != "de-AT" {
			t.Fatalf("stored locale %q, want de-AT", d.Locale)
		}
		if p := w.Get("/devices").Want(200); !strings.Contains(p.Body, "<td>de-AT</td>") {
			t.Error("the device list does not show the locale")
		}
		dev = s.MustDial(top, appliance.Options{ID: "fridge-1", Password: secret})
		// The same tag, however written, changes nothing and keeps the session.
		w.Post("/devices/fridge-1/locale", url.Values{"locale": {"DE-at"}}).Want(303)
		w.Get("/devices/fridge-1").Want(200).Has(t, "fridge-1 speaks de-AT already; nothing changed.")
		if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
			t.Fatalf("after an unchanged locale the device asks: %v %v", r, err)
		}
	})

	t.Run("RegisterWithLocale", func(t *testing.T) {
		w.Post("/devices", url.Values{"id": {"fridge-fr"}, "model": {"CM-100"}, "locale": {"fr-ca"}}).Want(200).Has(t, "Device “fridge-fr” registered", "fr-CA")
		if d, err := s.Identity.Device(ctx, "fridge-fr"); err != nil || d.Locale != "fr-CA" {
			t.Fatalf("registered %+v, %v; want locale fr-CA", d, err)
		}
	})

	t.Run("Disable", func(t *testing.T) {
		w.Post("/devices/fridge-1/disable", nil).Want(303)
		mustBeKicked(t, dev)
		w.Get("/devices/fridge-1").Want(200).Has(t, "fridge-1 is disabled", "Disabled", "Enable")
		if got := dialResult(t, s, appliance.Options{ID: "fridge-1", Password: secret}); got != 0x86 {
			t.Fatalf("disabled device connecting: 0x%02x, want 0x86", got)
		}
		w.Post("/devices/fridge-1/enable", nil).Want(303)
		w.Get("/devices/fridge-1").Want(200).Has(t, "fridge-1 is enabled")
		dev = s.MustDial(top, appliance.Options{ID: "fridge-1", Password: secret})
	})

	t.Run("Rotate", func(t *testing.T) {
		w.Get("/devices/fridge-1/rotate").Want(200).Has(t, "Issue a new secret for “fridge-1”?")
		p := w.Post("/devices/fridge-1/rotate", nil).Want(200).Has(t, "New secret for “fridge-1”")
		fresh := pageSecret(t, p)
		if fresh == secret {
			t.Fatal("the new secret is the old one")
		}
		mustBeKicked(t, dev)
		if got := dialResult(t, s, appliance.Options{ID: "fridge-1", Password: secret}); got != 0x86 {
			t.Fatalf("old secret: 0x%02x, want 0x86", got)
		}
		secret = fresh
		dev = s.MustDial(top, appliance.Options{ID: "fridge-1", Password: secret})
	})

	t.Run("Delete", func(t *testing.T) {
		w.Get("/devices/fridge-1/delete").Want(200).Has(t, "Delete the device “fridge-1”?")
		w.Post("/devices/fridge-1/delete", nil).Want(303)
		mustBeKicked(t, dev)
		if got := w.Get("/devices").Want(200).Flash(); got != "Device “fridge-1” deleted." {
			t.Errorf("flash %q", got)
		}
		if got := dialResult(t, s, appliance.Options{ID: "fridge-1", Password: secret}); got != 0x86 {
			t.Fatalf("deleted device connecting: 0x%02x, want 0x86", got)
		}
		w.Get("/devices/fridge-1").Want(404)
		for _, path := range []string{"/devices/fridge-1/disable", "/devices/fridge-1/rotate", "/devices/fridge-1/delete"} {
			w.Post(path, nil).Want(404)
		}
	})

	t.Run("ErrCSRF", func(t *testing.T) {
		w.PostRaw("/devices", url.Values{"id": {"sneaky"}, "model": {"CM-100"}}, nil).Want(403)
		if _, err := s.Identity.Device(ctx, "sneaky"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("a POST without the CSRF token registered a device: %v", err)
		}
	})
}

// TestAdminDeviceList: search and paging read only the page shown, and the
// connection filter uses the responder's live view.
func TestAdminDeviceList(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	for i := range 120 {
		s.MustRegister(t, fmt.Sprintf("bulk-%03d", i), "CM-100")
	}
	s.MustDial(t, appliance.Options{ID: "bulk-077"})

	p := w.Get("/devices?q=BULK").Want(200).Has(t, "120 devices matching “BULK” · page 1 of 3", "bulk-000", "bulk-049")
	if strings.Contains(p.Body, "bulk-050") {
		t.Error("page 1 shows the 51st device")
	}
	p = w.Get("/devices?q=bulk&page=3").Want(200).Has(t, "page 3 of 3", "bulk-100", "bulk-119")
	if !strings.Contains(p.Body, `rel="prev"`) || strings.Contains(p.Body, `rel="next"`) {
		t.Error("the last page does not link to the previous page only")
	}
	p = w.Get("/devices?state=online").Want(200).Has(t, "1 device · page 1 of 1", "bulk-077", "Connected")
	if strings.Contains(p.Body, "bulk-076") {
		t.Error("the connected filter shows a device that is not connected")
	}
	w.Get("/devices?q=07&state=offline").Want(200).Has(t, "bulk-007", "bulk-070", "bulk-078")
	w.Get("/devices?q=no-such-device").Want(200).Has(t, "No device matches.")
	w.Get("/devices?state=sideways").Want(400).Has(t, `state must be online or offline, not "sideways"`)
	// A page number past any int must not break the arithmetic.
	w.Get("/devices?page=200000000000000000000").Want(200)
	w.Get("/devices?page=2000000000000000000").Want(200)
}

// TestAdminDeviceAPI covers the device endpoints of the JSON API.
func TestAdminDeviceAPI(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: s.MustToken(t, w, "fleet")}
	top := t // sessions opened in a subtest outlive it
	type device struct {
		ID        string    `json:"id"`
		Model     string    `json:"model"`
		Locale    string    `json:"locale"`
		Enabled   bool      `json:"enabled"`
		Connected bool      `json:"connected"`
		CreatedAt time.Time `json:"created_at"`
		Secret    string    `json:"secret"`
	}

	p := api.Call("POST", "/api/devices", map[string]string{"id": "hob-1", "model": "CM-300"}).Want(201)
	created := webtest.DecodeJSON[device](t, p)
	if created.ID != "hob-1" || created.Model != "CM-300" || !created.Enabled || created.Secret == "" || created.CreatedAt.IsZero() {
		t.Fatalf("created %+v", created)
	}
	if got := p.Header.Get("Location"); got != "/api/devices/hob-1" {
		t.Errorf("Location %q", got)
	}
	dev := s.MustDial(t, appliance.Options{ID: "hob-1", Password: created.Secret})

	got := webtest.DecodeJSON[device](t, api.Call("GET", "/api/devices/hob-1", nil).Want(200))
	if !got.Connected || got.Secret != "" {
		t.Fatalf("GET %+v: want connected and no secret", got)
	}
	list := webtest.DecodeJSON[struct {
		Items []device `json:"items"`
		Total int      `json:"total"`
	}](t, api.Call("GET", "/api/devices?connected=true", nil).Want(200))
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != "hob-1" {
		t.Fatalf("connected devices %+v", list)
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name, method, path string
			body               any
			status             int
			code, message      string
			field              string
		}{
			{"BadID", "POST", "/api/devices", map[string]string{"id": "a#b", "model": "CM-100"}, 400, "invalid", "", "id"},
			{"BadModel", "POST", "/api/devices", map[string]string{"id": "hob-2", "model": "toaster"}, 400, "invalid", "", "model"},
			{"Taken", "POST", "/api/devices", map[string]string{"id": "hob-1", "model": "CM-100"}, 409, "conflict", `device "hob-1" already exists`, ""},
			{"UnknownField", "POST", "/api/devices", `{"id":"hob-3","model":"CM-100","secret":"mine"}`, 400, "invalid", `the body is not the JSON expected: it has the unknown field "secret"`, ""},
			{"Misspelt", "PATCH", "/api/devices/hob-1", `{"enable":false}`, 400, "invalid", `the body is not the JSON expected: it has the unknown field "enable"`, ""},
			{"WrongType", "PATCH", "/api/devices/hob-1", `{"enabled":"no"}`, 400, "invalid", `the body is not the JSON expected: field "enabled" has the wrong type`, ""},
			{"Trailing", "PATCH", "/api/devices/hob-1", `{"enabled":false} {"enabled":true}`, 400, "invalid", "there is more after the object", ""},
			{"PatchModel", "PATCH", "/api/devices/hob-1", map[string]any{"model": "CM-999", "enabled": false}, 400, "invalid", "", "model"},
			{"PatchLocale", "PATCH", "/api/devices/hob-1", map[string]any{"locale": "en_GB!", "enabled": false}, 400, "invalid", `locale "en_GB!" is not a BCP 47 language tag`, "locale"},
			{"PatchLocaleType", "PATCH", "/api/devices/hob-1", `{"locale":["de"]}`, 400, "invalid", `field "locale" has the wrong type`, ""},
			{"BadLocale", "POST", "/api/devices", map[string]string{"id": "hob-2", "model": "CM-100", "locale": "und"}, 400, "invalid", `"und" names no language`, "locale"},
			{"PatchUnknown", "PATCH", "/api/devices/nope", map[string]any{"enabled": false}, 404, "not_found", `device "nope" not found`, ""},
			{"Filter", "GET", "/api/devices?connected=maybe", nil, 400, "invalid", `connected must be true or false, not "maybe"`, ""},
			{"Limit", "GET", "/api/devices?limit=0", nil, 400, "invalid", "limit must be a whole number between 1 and 1000", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := webtest.DecodeJSON[webtest.APIError](t, api.Call(tt.method, tt.path, tt.body).Want(tt.status))
				if e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.message) {
					t.Errorf("error %+v, want %s containing %q", e.Error, tt.code, tt.message)
				}
				if tt.field != "" && (len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != tt.field) {
					t.Errorf("fields %+v, want one on %s", e.Error.Fields, tt.field)
				}
			})
		}
		// Nothing above changed hob-1 or its session.
		got := webtest.DecodeJSON[device](t, api.Call("GET", "/api/devices/hob-1", nil).Want(200))
		if got.Model != "CM-300" || !got.Enabled || !got.Connected {
			t.Fatalf("after refused requests: %+v", got)
		}
	})

	t.Run("Locale", func(t *testing.T) {
		got := webtest.DecodeJSON[device](t, api.Call("PATCH", "/api/devices/hob-1", map[string]any{"locale": "pt-br"}).Want(200))
		if got.Locale != "pt-BR" || got.Model != "CM-300" {
			t.Fatalf("after PATCH locale: %+v", got)
		}
		mustBeKicked(t, dev) // admitted speaking the default
		if got := webtest.DecodeJSON[device](t, api.Call("GET", "/api/devices/hob-1", nil).Want(200)); got.Locale != "pt-BR" {
			t.Fatalf("GET after PATCH locale: %+v", got)
		}
		dev = s.MustDial(top, appliance.Options{ID: "hob-1", Password: created.Secret})
		got = webtest.DecodeJSON[device](t, api.Call("PATCH", "/api/devices/hob-1", map[string]any{"locale": ""}).Want(200))
		if got.Locale != "" {
			t.Fatalf("after PATCH locale \"\": %+v", got)
		}
		mustBeKicked(t, dev)
		dev = s.MustDial(top, appliance.Options{ID: "hob-1", Password: created.Secret})

		made := webtest.DecodeJSON[device](t, api.Call("POST", "/api/devices", map[string]string{"id": "hob-de", "model": "CM-100", "locale": "de-at"}).Want(201))
		if made.Locale != "de-AT" {
			t.Fatalf("created %+v, want locale de-AT", made)
		}
		if got := webtest.DecodeJSON[device](t, api.Call("GET", "/api/devices/hob-de", nil).Want(200)); got.Locale != "de-AT" {
			t.Fatalf("GET created %+v", got)
		}
	})

	t.Run("Patch", func(t *testing.T) {
		got := webtest.DecodeJSON[device](t, api.Call("PATCH", "/api/devices/hob-1", map[string]any{"model": "CM-100"}).Want(200))
		if got.Model != "CM-100" || !got.Enabled {
			t.Fatalf("after PATCH model: %+v", got)
		}
		mustBeKicked(t, dev)
		got = webtest.DecodeJSON[device](t, api.Call("PATCH", "/api/devices/hob-1", map[string]any{"enabled": false}).Want(200))
		if got.Enabled {
			t.Fatalf("after PATCH enabled=false: %+v", got)
		}
		if code := dialResult(t, s, appliance.Options{ID: "hob-1", Password: created.Secret}); code != 0x86 {
			t.Fatalf("disabled: CONNACK 0x%02x", code)
		}
		api.Call("PATCH", "/api/devices/hob-1", map[string]any{"enabled": true}).Want(200)
		dev = s.MustDial(top, appliance.Options{ID: "hob-1", Password: created.Secret})
	})

	t.Run("Rotate", func(t *testing.T) {
		got := webtest.DecodeJSON[device](t, api.Call("POST", "/api/devices/hob-1/rotate", nil).Want(200))
		if got.Secret == "" || got.Secret == created.Secret {
			t.Fatalf("rotate returned %+v", got)
		}
		mustBeKicked(t, dev)
		if code := dialResult(t, s, appliance.Options{ID: "hob-1", Password: created.Secret}); code != 0x86 {
			t.Fatalf("old secret: CONNACK 0x%02x", code)
		}
		dev = s.MustDial(top, appliance.Options{ID: "hob-1", Password: got.Secret})
	})

	t.Run("Delete", func(t *testing.T) {
		api.Call("DELETE", "/api/devices/hob-1", nil).Want(204)
		mustBeKicked(t, dev)
		api.Call("GET", "/api/devices/hob-1", nil).Want(404)
		api.Call("DELETE", "/api/devices/hob-1", nil).Want(404)
	})

	t.Run("ErrUnauthorized", func(t *testing.T) {
		(&webtest.API{W: api.W}).Call("GET", "/api/devices", nil).Want(401)
		(&webtest.API{W: api.W}).Call("POST", "/api/devices", map[string]string{"id": "x", "model": "CM-100"}).Want(401)
	})
}
