package seed

import _ "embed"

// schemaKey is the top-level field a catalog file may use to name its JSON
// Schema, as editors expect; seeding ignores it.
const schemaKey = "$schema"

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of catalog files, for
// editors to check files as they are written. It says what [Parse] checks
// record by record; what needs the whole catalog (unique ids, existing
// categories) only seeding checks.
func Schema() []byte { return append([]byte(nil), schema...) }
