package seed_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// hashOf is the secret_hash of secret, as `printf %s "$SECRET" | sha256sum`
// computes it.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// device returns a valid device object on one line, with each pair of
// edits replaced (old, new, ...).
func device(id string, edits ...string) string {
	d := `{"id": "` + id + `", "model": "CM-300", "enabled": true, "secret_hash": "` + hashOf("s3cret-"+id) + `"}`
	return strings.NewReplacer(edits...).Replace(d)
}

// devFile lays out a file of devices, one per line from line 3.
func devFile(devs ...string) string {
	return "{\n  \"devices\": [\n    " + strings.Join(devs, ",\n    ") + "\n  ]\n}\n"
}

// yamlDevice returns a valid device as a YAML list item of 5 lines: id,
// model, enabled, secret_hash, then a comment.
func yamlDevice(id string, edits ...string) string {
	d := "  - id: " + id + "\n    model: CM-300\n    enabled: true\n    secret_hash: " + hashOf("s3cret-"+id) + "\n    # end\n"
	return strings.NewReplacer(edits...).Replace(d)
}

// yamlDevFile lays out devices from line 2, 5 lines each.
func yamlDevFile(devs ...string) string { return "devices:\n" + strings.Join(devs, "") }

const (
	badIDMessage    = `"oven 1" must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`
	badModelMessage = `"CM-900" is not a known appliance model (CM-100, CM-200, CM-300, CM-300X)`
	badHashMessage  = `must be "sha256:" and the 64 lower-case hex digits of the SHA-256 of the secret, ` +
		`as printf %s "$SECRET" | sha256sum prints them (the value given is not shown, in case it is a secret)`
	unknownDeviceField = "unknown field; known fields are id, model, locale, enabled, secret_hash"
)

func devProblem(file string, line int, id, field, msg string) seed.Problem {
	return seed.Problem{File: file, Line: line, Kind: "device", ID: id, Field: field, Message: msg}
}

func TestParse_Devices(t *testing.T) {
	upper := strings.ToUpper(hashOf("x")[7:])
	tests := []struct {
		name  string
		files map[string]string
		want  []seed.Problem
	}{
		{name: "OK", files: map[string]string{"a.json": devFile(device("oven-1"), device("oven-2", `"enabled": true, `, ``))}},
		{name: "OKWithContent", files: map[string]string{"a.json": strings.Replace(file(soups, recipe("tomato-soup")), "\n}\n", ",\n  \"devices\": ["+device("oven-1")+"]\n}\n", 1)}},
		{name: "OKNoHash", files: map[string]string{"a.json": devFile(device("oven-1", `, "secret_hash": "`+hashOf("s3cret-oven-1")+`"`, ``))}},
		{
			name:  "ErrID",
			files: map[string]string{"a.json": devFile(device("oven-1"), device("oven 1"))},
			want:  []seed.Problem{devProblem("a.json", 4, "oven 1", "id", badIDMessage)},
		},
		{
			name:  "ErrModel",
			files: map[string]string{"a.json": devFile(device("oven-1", "CM-300", "CM-900"))},
			want:  []seed.Problem{devProblem("a.json", 3, "oven-1", "model", badModelMessage)},
		},
		{
			name:  "ErrMissingModel",
			files: map[string]string{"a.json": devFile(device("oven-1", `"model": "CM-300", `, ``))},
			want:  []seed.Problem{devProblem("a.json", 3, "oven-1", "model", `"" is not a known appliance model (CM-100, CM-200, CM-300, CM-300X)`)},
		},
		{
			name:  "ErrHashUpperCase",
			files: map[string]string{"a.json": devFile(device("oven-1"), device("oven-2"), device("oven-3", hashOf("s3cret-oven-3"), "sha256:"+upper))},
			want:  []seed.Problem{devProblem("a.json", 5, "oven-3", "secret_hash", badHashMessage)},
		},
		{
			name:  "ErrHashNoPrefix",
			files: map[string]string{"a.json": devFile(device("oven-1", "sha256:", ""))},
			want:  []seed.Problem{devProblem("a.json", 3, "oven-1", "secret_hash", badHashMessage)},
		},
		{
			name: "ErrPlaintextSecret",
			files: map[string]string{"a.json": "{\"devices\": [\n  {\n    \"id\": \"oven-1\",\n    \"model\": \"CM-300\",\n" +
				"    \"secret\": \"hunter2\"\n  }\n]}\n"},
			want: []seed.Problem{devProblem("a.json", 5, "oven-1", "secret", plaintextSecretMessage)},
		},
		{name: "OKLocale", files: map[string]string{"a.json": devFile(device("oven-1", `"enabled"`, `"locale": "de-AT", "enabled"`))}},
		{
			name: "ErrLocale",
			files: map[string]string{"a.json": "{\"devices\": [\n  {\n    \"id\": \"oven-1\",\n    \"model\": \"CM-300\",\n" +
				"    \"locale\": \"de_AT!\"\n  },\n  {\n    \"id\": \"oven-2\",\n    \"model\": \"CM-300\",\n    \"locale\": \"de-at\"\n  }\n]}\n"},
			want: []seed.Problem{
				devProblem("a.json", 5, "oven-1", "locale", `"de_AT!" is not a BCP 47 language tag (like de, de-AT, fr-CA)`),
				devProblem("a.json", 10, "oven-2", "locale", `write the language tag "de-at" as "de-AT"`),
			},
		},
		{
			name:  "ErrLocaleType",
			files: map[string]string{"a.json": devFile(device("oven-1", `"enabled"`, `"locale": ["de"], "enabled"`))},
			want:  []seed.Problem{devProblem("a.json", 3, "oven-1", "locale", "must be a string, not an array")},
		},
		{
			name:  "ErrUnknownField",
			files: map[string]string{"a.json": devFile(device("oven-1", `"model"`, `"modle"`))},
			want: []seed.Problem{
				devProblem("a.json", 3, "oven-1", "modle", unknownDeviceField),
				devProblem("a.json", 3, "oven-1", "model", `"" is not a known appliance model (CM-100, CM-200, CM-300, CM-300X)`),
			},
		},
		{
			name:  "ErrEnabledType",
			files: map[string]string{"a.json": devFile(device("oven-1", `"enabled": true`, `"enabled": "yes"`))},
			want:  []seed.Problem{devProblem("a.json", 3, "oven-1", "enabled", "must be true or false, not a string")},
		},
		{
			name:  "ErrNotAnObject",
			files: map[string]string{"a.json": devFile(device("oven-1"), `"oven-2"`)},
			want:  []seed.Problem{{File: "a.json", Line: 4, Kind: "device", Message: "must be a JSON object"}},
		},
		{
			name:  "ErrDuplicateInFile",
			files: map[string]string{"a.json": devFile(device("oven-1"), device("oven-2"), device("oven-1", "CM-300", "CM-100"))},
			want:  []seed.Problem{devProblem("a.json", 5, "oven-1", "id", "is already used by another device at a.json:3")},
		},
		{
			name:  "ErrDuplicateAcrossFiles",
			files: map[string]string{"a.json": devFile(device("oven-1")), "b.json": devFile(device("oven-2"), device("oven-1"))},
			want:  []seed.Problem{devProblem("b.json", 4, "oven-1", "id", "is already used by another device at a.json:3")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			c, err := seed.ParseFS(fsys, "*.json")
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a problem repeats the plaintext secret: %v", err)
			}
			if tt.want == nil && len(c.Devices) == 0 {
				t.Error("no devices parsed")
			}
		})
	}
}

// plaintextSecretMessage is what a device with a secret in clear is told.
const plaintextSecretMessage = `plaintext secrets are never accepted in files; give secret_hash instead, "sha256:" and the hex SHA-256 of the secret: ` +
	`echo "sha256:$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)". Leave both out to keep the secret of a device already in the store, ` +
	`or to have the server issue one (recipesd seed -secrets-out FILE)`

func TestParse_DeviceRecord(t *testing.T) {
	c, err := seed.Parse("a.json", []byte(devFile(device("oven-1", `"enabled"`, `"locale": "fr-CA", "enabled"`), device("oven-2", `"enabled": true, `, ``, `"CM-300"`, `"CM-100"`),
		device("oven-3", `"enabled": true`, `"enabled": false`, `, "secret_hash": "`+hashOf("s3cret-oven-3")+`"`, ``))))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := []recipes.DeviceRecord{
		{ID: "oven-1", Model: "CM-300", Locale: "fr-CA", Enabled: &yes, SecretHash: hashOf("s3cret-oven-1")},
		{ID: "oven-2", Model: "CM-100", SecretHash: hashOf("s3cret-oven-2")},
		{ID: "oven-3", Model: "CM-300", Enabled: &no},
	}
	if diff := cmp.Diff(want, c.Devices); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	if !c.Devices[1].IsEnabled() || c.Devices[2].IsEnabled() {
		t.Error("enabled must default to true")
	}
}

func TestParseYAML_Devices(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []seed.Problem
	}{
		{name: "OK", data: yamlDevFile(yamlDevice("oven-1"), yamlDevice("oven-2", "    enabled: true\n", ""))},
		{name: "OKWithContent", data: yamlFile(yamlRecipe("tomato-soup")) + yamlDevFile(yamlDevice("oven-1"))},
		{name: "OKOwnDocument", data: yamlFile(yamlRecipe("tomato-soup")) + "---\n" + yamlDevFile(yamlDevice("oven-1"))},
		{
			name: "ErrID",
			data: yamlDevFile(yamlDevice("oven-1"), yamlDevice("oven 1")),
			want: []seed.Problem{devProblem("a.yaml", 7, "oven 1", "id", badIDMessage)},
		},
		{
			name: "ErrModel",
			data: yamlDevFile(yamlDevice("oven-1", "CM-300", "CM-900")),
			want: []seed.Problem{devProblem("a.yaml", 3, "oven-1", "model", badModelMessage)},
		},
		{
			name: "ErrLocale",
			data: yamlDevFile(yamlDevice("oven-1"), yamlDevice("oven-2", "    enabled", "    locale: en_GB\n    enabled")),
			want: []seed.Problem{devProblem("a.yaml", 9, "oven-2", "locale", `write the language tag "en_GB" as "en-GB"`)},
		},
		{
			name: "ErrHash",
			data: yamlDevFile(yamlDevice("oven-1"), yamlDevice("oven-2", "sha256:", "md5:")),
			want: []seed.Problem{devProblem("a.yaml", 10, "oven-2", "secret_hash", badHashMessage)},
		},
		{
			name: "ErrPlaintextSecret",
			data: yamlDevFile(yamlDevice("oven-1", "    # end\n", "    secret: hunter2\n")),
			want: []seed.Problem{devProblem("a.yaml", 6, "oven-1", "secret", plaintextSecretMessage)},
		},
		{
			name: "ErrUnknownField",
			data: yamlDevFile(yamlDevice("oven-1", "    # end\n", "    location: kitchen\n")),
			want: []seed.Problem{devProblem("a.yaml", 6, "oven-1", "location", unknownDeviceField)},
		},
		{
			name: "ErrEnabledType",
			data: yamlDevFile(yamlDevice("oven-1", "enabled: true", "enabled: 'yes'")),
			want: []seed.Problem{devProblem("a.yaml", 4, "oven-1", "enabled", "must be true or false, not a string")},
		},
		{
			name: "ErrDuplicate",
			data: yamlDevFile(yamlDevice("oven-1"), yamlDevice("oven-2"), yamlDevice("oven-1")),
			want: []seed.Problem{devProblem("a.yaml", 12, "oven-1", "id", "is already used by another device at a.yaml:2")},
		},
		{
			name: "ErrNotAMapping",
			data: yamlDevFile("  - oven-1\n"),
			want: []seed.Problem{{File: "a.yaml", Line: 2, Kind: "device", Message: "must be a mapping of fields"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := seed.ParseYAML("a.yaml", []byte(tt.data))
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a problem repeats the plaintext secret: %v", err)
			}
			if tt.want == nil && len(c.Devices) == 0 {
				t.Error("no devices parsed")
			}
		})
	}
}

// TestReadFiles_DuplicateDevice finds a device id used in a JSON file and
// a YAML file.
func TestReadFiles_DuplicateDevice(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.json": devFile(device("oven-1")), "b.yaml": yamlDevFile(yamlDevice("oven-2"), yamlDevice("oven-1"))})
	_, err := seed.ReadFiles([]string{dir}, seed.ReadOptions{})
	want := []seed.Problem{devProblem(filepath.Join(dir, "b.yaml"), 7, "oven-1", "id", "is already used by another device at "+filepath.Join(dir, "a.json")+":3")}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestWriteCatalog_Devices writes devices after the content, in both
// formats, and reads them back the same.
func TestWriteCatalog_Devices(t *testing.T) {
	c := MustDemo(t)
	yes, no := true, false
	for i := range 2500 { // more than one YAML document's worth
		en := &yes
		if i%7 == 0 {
			en = &no
		}
		c.Devices = append(c.Devices, recipes.DeviceRecord{ID: "oven-" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i), Model: recipes.Models[i%len(recipes.Models)], Enabled: en, SecretHash: hashOf(itoa(i))})
		if i%3 == 2 {
			c.Devices[i].Locale = "de-AT"
		}
	}
	for _, f := range []seed.Format{seed.JSON, seed.YAML} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := seed.WriteCatalog(&b, f, c); err != nil {
				t.Fatal(err)
			}
			parse := seed.Parse
			if f == seed.YAML {
				parse = seed.ParseYAML
			}
			got, err := parse("a."+string(f), b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.Devices, got.Devices); diff != "" {
				t.Errorf("devices (-written +read):\n%.2000s", diff)
			}
			if len(got.Recipes) != len(c.Recipes) || len(got.Categories) != len(c.Categories) {
				t.Errorf("read %d categories and %d recipes, wrote %d and %d", len(got.Categories), len(got.Recipes), len(c.Categories), len(c.Recipes))
			}
			wantLines := []string{
				`{"id": "oven-0001", "model": "CM-200", "enabled": true, "secret_hash": "` + hashOf("1") + `"}`,
				`{"id": "oven-0002", "model": "CM-300", "locale": "de-AT", "enabled": true, "secret_hash": "` + hashOf("2") + `"}`,
			}
			if f == seed.YAML {
				wantLines = []string{
					"---\ndevices:\n  - id: oven-0000\n    model: CM-100\n    enabled: false\n    secret_hash: " + hashOf("0") + "\n",
					"  - id: oven-0002\n    model: CM-300\n    locale: de-AT\n    enabled: true\n",
				}
			}
			for _, wantLine := range wantLines {
				if !strings.Contains(b.String(), wantLine) {
					t.Errorf("output lacks %q", wantLine)
				}
			}
		})
	}
	t.Run("NoDevices", func(t *testing.T) {
		var b bytes.Buffer
		if err := seed.WriteCatalog(&b, seed.JSON, seed.Catalog{Categories: c.Categories}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "devices") {
			t.Errorf("a catalog without devices has a devices list:\n%s", b.String())
		}
	})
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

func TestSync_Devices(t *testing.T) {
	ctx := context.Background()
	withDevices := func(t *testing.T, devs ...string) seed.Catalog {
		c, err := seed.Parse("a.json", []byte(strings.Replace(file(soups, recipe("tomato-soup")), "\n}\n", ",\n  \"devices\": [\n    "+strings.Join(devs, ",\n    ")+"\n  ]\n}\n", 1)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	changes := []recipes.Change{{Op: recipes.ItemAdded, Kind: "recipe", ID: "tomato-soup", Category: "soups"}}
	devChanges := []recipes.DeviceChange{
		{ID: "oven-1", Op: recipes.ItemAdded},
		{ID: "oven-2", Op: recipes.ItemChanged, FromModel: "CM-100", Model: "CM-300"},
	}
	refuseDevices := func(t *testing.T) *fakeStore { return &fakeStore{SyncFn: refuse(t, "Sync")} }

	t.Run("OK", func(t *testing.T) {
		st := refuseDevices(t)
		var gotIssue bool
		st.SyncFn = func(_ context.Context, cats []recipes.Category, recs []recipes.Recipe, imp recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			if len(cats) != 1 || len(recs) != 1 || len(imp.Devices) != 2 || opts.Prune || opts.DryRun || imp.Update {
				t.Errorf("Sync(%d categories, %d recipes, %d devices, update %v, %+v)", len(cats), len(recs), len(imp.Devices), imp.Update, opts)
			}
			gotIssue = opts.Secrets != nil && opts.Secrets(map[string]string{"oven-1": "x"}) == nil
			return changes, devChanges, nil
		}
		var issued map[string]string
		rep, err := seed.Sync(ctx, st, withDevices(t, device("oven-1", `, "secret_hash": "`+hashOf("s3cret-oven-1")+`"`, ``), device("oven-2")),
			seed.SyncOptions{Secrets: func(s map[string]string) error { issued = s; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if !gotIssue || issued["oven-1"] != "x" {
			t.Errorf("the store's secrets did not reach SyncOptions.Secrets: %v", issued)
		}
		if got, want := rep.String(), "1 categories, 1 recipes, 2 devices; recipes 1 added, 0 changed, 0 removed; categories 0 added, 0 changed, 0 removed; devices 1 added, 1 changed"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		var diff strings.Builder
		if err := rep.WriteDiff(&diff, true); err != nil {
			t.Fatal(err)
		}
		if got, want := diff.String(), "soups: 1 added, 0 changed, 0 removed\n  + tomato-soup\ndevices: 1 added, 1 changed\n  + oven-1\n  ~ oven-2 (model CM-100 -> CM-300)\n"; got != want {
			t.Errorf("WriteDiff(items) = %q, want %q", got, want)
		}
		diff.Reset()
		if err := rep.WriteDiff(&diff, false); err != nil {
			t.Fatal(err)
		}
		// A real run lists the devices it changed, not those it added.
		if got, want := diff.String(), "soups: 1 added, 0 changed, 0 removed\ndevices: 1 added, 1 changed\n  ~ oven-2 (model CM-100 -> CM-300)\n"; got != want {
			t.Errorf("WriteDiff(removals) = %q, want %q", got, want)
		}
	})

	t.Run("OKDryRun", func(t *testing.T) {
		st := refuseDevices(t)
		st.SyncFn = func(_ context.Context, _ []recipes.Category, _ []recipes.Recipe, imp recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			if !opts.DryRun || opts.Secrets == nil || len(imp.Devices) != 1 {
				t.Errorf("Sync(%d devices, dry run %v, issuing %v), want 1, true and true", len(imp.Devices), opts.DryRun, opts.Secrets != nil)
			}
			return nil, devChanges[:1], nil
		}
		_, err := seed.Sync(ctx, st, withDevices(t, device("oven-1")), seed.SyncOptions{DryRun: true, Secrets: func(map[string]string) error {
			t.Error("a dry run issued secrets")
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	})

	// With UpdateDevices the store may replace secrets and enabled flags,
	// and the report says what changes in each device, in a real run too.
	t.Run("OKUpdateDevices", func(t *testing.T) {
		yes, no := true, false
		st := refuseDevices(t)
		st.SyncFn = func(_ context.Context, _ []recipes.Category, _ []recipes.Recipe, imp recipes.DeviceImport, _ seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			if !imp.Update {
				t.Error("Sync without Update")
			}
			return nil, []recipes.DeviceChange{
				{ID: "oven-1", Op: recipes.ItemChanged, NewSecret: true},
				{ID: "oven-2", Op: recipes.ItemChanged, Enabled: &yes},
				{ID: "oven-3", Op: recipes.ItemChanged, FromModel: "CM-100", Model: "CM-300", NewSecret: true, Enabled: &no},
				{ID: "oven-4", Op: recipes.ItemChanged, Locale: "de-AT"},
				{ID: "oven-5", Op: recipes.ItemChanged, FromLocale: "de", Locale: "fr"},
			}, nil
		}
		rep, err := seed.Sync(ctx, st, withDevices(t, device("oven-1"), device("oven-2"), device("oven-3"), device("oven-4"), device("oven-5")), seed.SyncOptions{UpdateDevices: true})
		if err != nil {
			t.Fatal(err)
		}
		want := "devices: 0 added, 5 changed\n" +
			"  ~ oven-1 (secret replaced)\n  ~ oven-2 (re-enabled)\n  ~ oven-3 (model CM-100 -> CM-300, secret replaced, disabled)\n" +
			"  ~ oven-4 (locale (none) -> de-AT)\n  ~ oven-5 (locale de -> fr)\n"
		var diff strings.Builder
		if err := rep.WriteDiff(&diff, false); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, diff.String()); d != "" {
			t.Errorf("WriteDiff (-want +got):\n%s", d)
		}
	})

	// Without UpdateDevices, each device whose secret or enabled flag the
	// store kept is reported; it alone is no change.
	t.Run("OKKept", func(t *testing.T) {
		kept := []recipes.DeviceChange{
			{ID: "oven-1", Op: recipes.ItemChanged, FromModel: "CM-100", Model: "CM-300", KeptSecret: true},
			{ID: "oven-2", KeptEnabled: true},
			{ID: "oven-3", KeptSecret: true, KeptEnabled: true},
		}
		for _, dryRun := range []bool{false, true} {
			st := refuseDevices(t)
			st.SyncFn = func(_ context.Context, _ []recipes.Category, _ []recipes.Recipe, imp recipes.DeviceImport, _ seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
				if imp.Update {
					t.Error("Sync with Update")
				}
				return nil, kept, nil
			}
			rep, err := seed.Sync(ctx, st, withDevices(t, device("oven-1"), device("oven-2"), device("oven-3")), seed.SyncOptions{DryRun: dryRun})
			if err != nil {
				t.Fatal(err)
			}
			keep := "kept"
			if dryRun {
				keep = "would keep"
			}
			want := "devices: 0 added, 1 changed\n  ~ oven-1 (model CM-100 -> CM-300)\n" +
				keep + " oven-1's secret as registered (use -update-devices to replace it)\n" +
				keep + " oven-2's enabled flag as registered (use -update-devices to replace it)\n" +
				keep + " oven-3's secret and enabled flag as registered (use -update-devices to replace them)\n"
			var diff strings.Builder
			if err := rep.WriteDiff(&diff, dryRun); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, diff.String()); d != "" {
				t.Errorf("WriteDiff, dry run %v (-want +got):\n%s", dryRun, d)
			}
			if !rep.Changed() {
				t.Error("Changed() = false with oven-1's model changed")
			}
			rep.DeviceChanges = kept[1:]
			if rep.Changed() {
				t.Error("Changed() = true with every device kept as registered")
			}
		}
	})

	t.Run("ErrDraft", func(t *testing.T) {
		_, err := seed.Sync(ctx, refuseDevices(t), withDevices(t, device("oven-1"), device("oven-2")), seed.SyncOptions{Draft: true})
		want := []seed.Problem{{File: "a.json", Line: 9, Kind: "file", Message: "holds devices, which cannot be seeded as drafts: drafts are content for editors to review; " +
			"seed the devices without -draft, or leave them out (recipesd export -no-devices)"}}
		if diff := cmp.Diff(want, problems(t, err)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrPruneOnlyDevices", func(t *testing.T) {
		c, err := seed.Parse("a.json", []byte(devFile(device("oven-1"))))
		if err != nil {
			t.Fatal(err)
		}
		_, err = seed.Sync(ctx, refuseDevices(t), c, seed.SyncOptions{Prune: true})
		if ps := problems(t, err); len(ps) != 1 || !strings.Contains(ps[0].Message, "-prune would remove every published category and recipe") {
			t.Errorf("problems %v", ps)
		}
	})

	// A store refusing a new device without a hash is reported at the
	// device's line, naming the flag that issues secrets.
	t.Run("ErrMissingHash", func(t *testing.T) {
		st := refuseDevices(t)
		st.SyncFn = func(_ context.Context, _ []recipes.Category, _ []recipes.Recipe, _ recipes.DeviceImport, opts seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
			if opts.Secrets != nil {
				t.Error("secrets would be issued")
			}
			return nil, nil, &recipes.ValidationError{Kind: "device", ID: "oven-2", Fields: []recipes.FieldError{{Field: "secret_hash", Message: "is required"}}}
		}
		_, err := seed.Sync(ctx, st, withDevices(t, device("oven-1"), device("oven-2", `, "secret_hash": "`+hashOf("s3cret-oven-2")+`"`, ``)), seed.SyncOptions{})
		ps := problems(t, err)
		if len(ps) != 1 || ps[0].Line != 10 || ps[0].ID != "oven-2" || ps[0].Field != "secret_hash" || !strings.Contains(ps[0].Message, "-secrets-out FILE") ||
			!strings.Contains(ps[0].Message, "sha256sum") {
			t.Errorf("problems %v", ps)
		}
	})

	t.Run("ErrLoad", func(t *testing.T) {
		if err := seed.Load(ctx, nil, withDevices(t, device("oven-1"))); err == nil || !strings.Contains(err.Error(), "cannot register devices") {
			t.Errorf("Load = %v", err)
		}
	})
}
