package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// messageError shows only a domain error's message, written for the user,
// while errors.Is and errors.As still see the error.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }

// printSecret writes a new secret, if there is one, alone on stdout, and
// what happened on stderr.
func printSecret(stdout, stderr io.Writer, secret, what string) {
	if secret == "" {
		fmt.Fprintln(stderr, what)
		return
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "%s; the secret above is shown only this once\n", what)
}

// A listing is what a list action prints: its items as JSON (-json), or
// a table.
type listing struct {
	items any      // never a nil slice, which would print null
	head  string   // the table's head, tab-separated
	rows  []string // its rows, likewise
}

// newListing lists items, each as row(item) in the table.
func newListing[T any](items []T, head string, row func(T) string) listing {
	l := listing{items: items, head: head}
	if items == nil {
		l.items = []T{}
	}
	for _, it := range items {
		l.rows = append(l.rows, row(it))
	}
	return l
}

func (l listing) print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(l.items)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, l.head)
	for _, r := range l.rows {
		fmt.Fprintln(tw, r)
	}
	return tw.Flush()
}
