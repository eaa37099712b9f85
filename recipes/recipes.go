// Package recipes holds the domain of recipesd: categories, recipes and their
// summaries, the queries appliances send, validation and the domain errors.
// It depends on nothing but the standard library; every other package speaks
// in its terms.
package recipes

import (
	"encoding/json"
	"errors"
)

// Document is a catalog answer ready to send: Data is the JSON value of the
// reply's "data" member and ETag identifies exactly that value.
type Document struct {
	ETag string
	Data json.RawMessage

	// Language is the BCP 47 tag of the language Data is in: the reply's
	// content-language. A list names the language it was asked in after
	// fallback; an item in it that has no translation to that language
	// carries its own "language" member.
	Language string
}

// ErrUncached is returned by catalog lookups that may only use memory when
// answering would have to wait on the store.
var ErrUncached = errors.New("recipes: answer not in memory")
