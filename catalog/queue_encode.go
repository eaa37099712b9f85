package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// The JSON the writers store: encoded once, with room to stamp UpdatedAt
// in place, so that Sync can compare what it is given with what is stored
// before it stamps (see [stampJSON]).

// encodedRecipe is a recipe ready to store.
type encodedRecipe struct {
	id, category, member string
	recipe, summary      []byte
}

// encodeRecipe encodes r as it is, UpdatedAt included.
func encodeRecipe(r *recipes.Recipe) (encodedRecipe, error) {
	var enc roomyEncoder
	return enc.recipe(r)
}

// roomyEncoder encodes values as json.Marshal does, each into a slice of
// its own with room to stamp it in place (see [stampJSON]).
type roomyEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (e *roomyEncoder) encode(v any) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	return append(make([]byte, 0, len(b)+stampRoom), b...), nil
}

// recipe encodes r and its summary.
func (e *roomyEncoder) recipe(r *recipes.Recipe) (encodedRecipe, error) {
	enc := encodedRecipe{id: r.ID, category: r.Category, member: idxMember(r.Title, r.ID)}
	var err error
	if enc.recipe, err = e.encode(r); err != nil {
		return enc, fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
	}
	if enc.summary, err = e.encode(r.ToSummary()); err != nil {
		return enc, fmt.Errorf("catalog: encode summary %s: %w", r.ID, err)
	}
	return enc, nil
}

// stampRoom is enough for `,"updated_at":"2006-01-02T15:04:05.999999999Z"`.
const stampRoom = 48

const stampKey = `,"updated_at":`

// jsonBody returns the JSON object of a category, recipe or summary
// without its closing brace and without its updated_at member, which
// encoding/json writes last.
func jsonBody[T string | []byte](b T) T {
	if len(b) > 0 && b[len(b)-1] == '}' {
		b = b[:len(b)-1]
	}
	// The member, if any, is near the end: look no further.
	tail := max(len(b)-64, 0)
	i := strings.LastIndex(string(b[tail:]), stampKey)
	if i < 0 {
		return b
	}
	i += tail
	// A quote inside a JSON string is escaped, so the key found is the
	// top-level member if the value after it is one string.
	if v := string(b[i+len(stampKey):]); len(v) < 2 || v[0] != '"' || strings.IndexByte(v[1:], '"') != len(v)-2 {
		return b
	}
	return b[:i]
}

// sameJSON reports whether a stored encoding and a new one differ at most
// in updated_at.
func sameJSON(stored string, enc []byte) bool {
	return jsonBody(stored) == string(jsonBody(enc))
}

// stampJSON sets the updated_at member of b, in place when there is room.
func stampJSON(b []byte, t time.Time) []byte {
	b = append(jsonBody(b), stampKey...)
	b = t.AppendFormat(append(b, '"'), time.RFC3339Nano)
	return append(b, '"', '}')
}
