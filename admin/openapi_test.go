package admin_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/web"
)

// TestOpenAPIDocumentsEveryRoute: every JSON API route the server serves
// is in the OpenAPI document with its method, and the document describes
// nothing the server does not serve.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h, err := admin.New(&fakeStore{tb: t}, admin.Options{}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	var served []string
	for _, r := range h.(*echo.Echo).Routes() {
		if strings.HasPrefix(r.Path, "/api/") && r.Path != "/api/openapi.json" && r.Method != "echo_route_not_found" {
			served = append(served, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
		}
	}
	b, err := web.FS.ReadFile("static/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	served = slices.Compact(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not documented", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is documented but not served", r)
		}
	}
	if len(served) < 20 {
		t.Fatalf("only %d API routes found: %q", len(served), served)
	}
}

// TestOpenAPIDeviceFields: the device schemas name every field a device
// has and every field a change may set, so that a field added to the
// domain is documented.
func TestOpenAPIDeviceFields(t *testing.T) {
	b, err := web.FS.ReadFile("static/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	type body struct {
		RequestBody struct {
			Content map[string]struct {
				Schema object `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	var doc struct {
		Paths struct {
			Devices struct {
				Post body `json:"post"`
			} `json:"/api/devices"`
			Device struct {
				Patch body `json:"patch"`
			} `json:"/api/devices/{id}"`
		} `json:"paths"`
		Components struct {
			Schemas struct {
				Device object `json:"Device"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		schema object
		fields []string
	}{
		{"Device", doc.Components.Schemas.Device, jsonFields(reflect.TypeFor[recipes.Device]())},
		{"createDevice", doc.Paths.Devices.Post.RequestBody.Content["application/json"].Schema, []string{"id", "model", "locale"}},
		{"updateDevice", doc.Paths.Device.Patch.RequestBody.Content["application/json"].Schema, jsonFields(reflect.TypeFor[recipes.DeviceUpdate]())},
	} {
		for _, f := range tt.fields {
			if _, ok := tt.schema.Properties[f]; !ok {
				t.Errorf("%s: field %q is not documented", tt.name, f)
			}
		}
	}
}

// jsonFields returns the JSON names of t's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
