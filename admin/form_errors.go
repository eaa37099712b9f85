package admin

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// formErrors holds the problems of a submitted form by field path, such as
// "steps[2].temperature_c", plus those that belong to no one field.
type formErrors struct {
	fields  map[string][]string
	order   []recipes.FieldError // every problem, for the summary
	General []string
}

// add files msg under field; an empty field makes it general.
func (e *formErrors) add(field, msg string) {
	if field == "" {
		e.General = append(e.General, msg)
		return
	}
	if e.fields == nil {
		e.fields = map[string][]string{}
	}
	e.fields[field] = append(e.fields[field], msg)
	e.order = append(e.order, recipes.FieldError{Field: field, Message: msg})
}

// addErr files err: a *recipes.ValidationError field by field (through
// place, which maps a path to the form field showing it), any other domain
// error as a general message. It returns false for errors that are not
// the user's to fix, which the caller returns instead.
func (e *formErrors) addErr(err error, place func(string) string) bool {
	var verr *recipes.ValidationError
	switch {
	case errors.As(err, &verr):
		for _, f := range verr.Fields {
			field := f.Field
			if place != nil {
				field = place(field)
			}
			msg := f.Message
			switch {
			case field == "":
				msg = fieldLabel(f.Field) + " " + msg
			case field != f.Field:
				msg = itemLabel(f.Field) + ": " + msg
			}
			e.add(field, msg)
		}
	case recipes.ErrorCode(err) == recipes.EINVALID, recipes.ErrorCode(err) == recipes.ECONFLICT:
		e.add("", recipes.ErrorMessage(err))
	default:
		return false
	}
	return true
}

// Any reports whether there is any problem.
func (e formErrors) Any() bool { return len(e.order) > 0 || len(e.General) > 0 }

// Has reports whether field has a problem.
func (e formErrors) Has(field string) bool { return len(e.fields[field]) > 0 }

// For returns the problems of field, joined.
func (e formErrors) For(field string) string { return strings.Join(e.fields[field], " ") }

// Summary lists every problem with a label a person reads.
func (e formErrors) Summary() []string {
	out := append([]string(nil), e.General...)
	for _, f := range e.order {
		out = append(out, fieldLabel(f.Field)+": "+f.Message)
	}
	return out
}

var indexed = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?$`)

// fieldLabel turns a field path into words: "steps[2].temperature_c" is
// "Step 3, temperature".
func fieldLabel(path string) string {
	if m := indexed.FindStringSubmatch(path); m != nil {
		l := itemLabel(m[1] + "[" + m[2] + "]")
		if m[3] != "" {
			l += ", " + words(m[3])
		}
		return l
	}
	return capitalize(words(path))
}

// itemLabel names one row of a repeated field: "tags[1]" is "Tag 2".
func itemLabel(path string) string {
	m := indexed.FindStringSubmatch(path)
	if m == nil {
		return capitalize(words(path))
	}
	n, _ := strconv.Atoi(m[2])
	return capitalize(strings.TrimSuffix(words(m[1]), "s")) + " " + strconv.Itoa(n+1)
}

func words(field string) string {
	switch field {
	case "temperature_c":
		return "temperature"
	case "total_minutes":
		return "total time"
	case "id":
		return "ID"
	case "move_to":
		return "target category"
	}
	return strings.ReplaceAll(field, "_", " ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
