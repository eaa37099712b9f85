package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/audit"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

func MustOpenLog(tb testing.TB, opts audit.Options) (*audit.Log, *miniredis.Miniredis) {
	tb.Helper()
	mr := miniredis.RunT(tb)
	rdb, err := redisconn.New("redis://"+mr.Addr(), 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return audit.New(rdb, opts), mr
}

func mustRecord(tb testing.TB, l *audit.Log, e recipes.AuditEntry) {
	tb.Helper()
	if err := l.Record(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
}

// strip leaves what a test compares: ids and times are the log's.
func strip(es []recipes.AuditEntry) []recipes.AuditEntry {
	out := make([]recipes.AuditEntry, len(es))
	for i, e := range es {
		e.ID, e.Time = "", time.Time{}
		out[i] = e
	}
	return out
}

func TestEntries(t *testing.T) {
	l, mr := MustOpenLog(t, audit.Options{})
	ctx := context.Background()
	// Within the default age kept, which counts from the real clock.
	t0 := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Millisecond)
	alice := recipes.Actor{Kind: recipes.ActorStaff, Name: "alice"}
	imp := recipes.Actor{Kind: recipes.ActorToken, Name: "importer"}
	var all []recipes.AuditEntry
	for i := range 6 {
		mr.SetTime(t0.Add(time.Duration(i) * time.Hour))
		e := recipes.AuditEntry{Actor: alice, Action: "POST /recipes/:id/publish", Target: fmt.Sprintf("id=soup-%d", i), Outcome: recipes.AuditOK}
		if i%2 == 1 {
			e.Actor, e.Action, e.Outcome = imp, "PUT /api/recipes/:id", "422 the title is empty"
		}
		mustRecord(t, l, e)
		all = append([]recipes.AuditEntry{e}, all...) // newest first
	}

	tests := []struct {
		name string
		f    recipes.AuditFilter
		want []recipes.AuditEntry
	}{
		{"All", recipes.AuditFilter{}, all},
		{"ActorByName", recipes.AuditFilter{Actor: "importer"}, []recipes.AuditEntry{all[0], all[2], all[4]}},
		{"ActorByKindAndName", recipes.AuditFilter{Actor: "staff:alice"}, []recipes.AuditEntry{all[1], all[3], all[5]}},
		{"ActorOtherKind", recipes.AuditFilter{Actor: "token:alice"}, nil},
		{"Target", recipes.AuditFilter{Target: "SOUP-3"}, []recipes.AuditEntry{all[2]}},
		{"TimeRange", recipes.AuditFilter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, []recipes.AuditEntry{all[3], all[4]}},
		{"Limit", recipes.AuditFilter{Limit: 2}, all[:2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := l.Entries(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strip(tt.want), strip(p.Entries)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("Pages", func(t *testing.T) {
		var got []recipes.AuditEntry
		f := recipes.AuditFilter{Limit: 4}
		for pages := 0; ; pages++ {
			p, err := l.Entries(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Entries...)
			if p.Next == "" {
				if pages != 1 {
					t.Errorf("got %d pages after the first, want 1", pages)
				}
				break
			}
			f.Before = p.Next
		}
		if diff := cmp.Diff(strip(all), strip(got)); diff != "" {
			t.Errorf("paged entries (-want +got):\n%s", diff)
		}
	})
	t.Run("Time", func(t *testing.T) {
		p, _ := l.Entries(ctx, recipes.AuditFilter{Limit: 1})
		if want := t0.Add(5 * time.Hour); !p.Entries[0].Time.Equal(want) {
			t.Errorf("Time = %v, want %v", p.Entries[0].Time, want)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := l.Entries(ctx, recipes.AuditFilter{Before: "yesterday"})
		if recipes.ErrorCode(err) != recipes.EINVALID {
			t.Fatalf("Before=yesterday: %v, want EINVALID", err)
		}
	})
}

// TestRetention checks both bounds: the count and the age. miniredis
// trims exactly where Redis trims about (~), so the counts are exact.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	e := recipes.AuditEntry{Actor: recipes.Actor{Kind: recipes.ActorCLI, Name: "root"}, Action: "cli seed", Outcome: recipes.AuditOK}
	t.Run("Count", func(t *testing.T) {
		l, _ := MustOpenLog(t, audit.Options{Keep: 3})
		for i := range 5 {
			e.Target = fmt.Sprint(i)
			mustRecord(t, l, e)
		}
		p, err := l.Entries(ctx, recipes.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, e := range p.Entries {
			targets = append(targets, e.Target)
		}
		if diff := cmp.Diff([]string{"4", "3", "2"}, targets); diff != "" {
			t.Errorf("kept (-want +got):\n%s", diff)
		}
	})
	t.Run("Age", func(t *testing.T) {
		l, mr := MustOpenLog(t, audit.Options{MaxAge: 24 * time.Hour})
		t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		now := t0
		l.SetClock(func() time.Time { return now })
		for i, at := range []time.Duration{0, 2 * time.Hour, 30 * time.Hour} {
			now = t0.Add(at)
			mr.SetTime(now)
			e.Target = fmt.Sprint(i)
			mustRecord(t, l, e)
		}
		p, err := l.Entries(ctx, recipes.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, e := range p.Entries {
			targets = append(targets, e.Target)
		}
		// At t0+30h the cutoff is t0+6h: both older entries go.
		if diff := cmp.Diff([]string{"2"}, targets); diff != "" {
			t.Errorf("kept (-want +got):\n%s", diff)
		}
	})
}
