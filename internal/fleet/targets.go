package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/recipesd/recipesd/internal/appliance"
)

// The kinds of request a fleet sends.
const (
	KindCategories  = "categories"  // recipes/categories
	KindList        = "list"        // recipes/<category>, a page of 20
	KindGet         = "get"         // recipes/<category>/<id>
	KindSearch      = "search"      // recipes/<category> with "q"
	KindConditional = "conditional" // one of the above with if-none-match: the ETag of an earlier reply
	KindNotFound    = "notfound"    // recipes/<category>/<no such id>: a 404
)

var kinds = []string{KindCategories, KindList, KindGet, KindSearch, KindConditional, KindNotFound}

func kindIndex(k string) int {
	for i, n := range kinds {
		if n == k {
			return i
		}
	}
	return -1
}

// Mix is the share of each kind of request, as weights.
type Mix map[string]int

// DefaultMix is what an appliance's day looks like: mostly single recipes
// and conditional refreshes, some browsing, a few searches.
const DefaultMix = "categories=1,list=2,get=4,search=1,conditional=2"

// ParseMix parses "kind=weight,…" (kinds: categories, list, get, search,
// conditional, notfound).
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	total := 0
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, w, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix %q: entry %d %q: want kind=weight", s, i+1, part)
		}
		if kindIndex(k) < 0 {
			return nil, fmt.Errorf("mix %q: entry %d: unknown kind %q (want %s)", s, i+1, k, strings.Join(kinds, ", "))
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("mix %q: entry %d: weight %q is not a whole number ≥ 0", s, i+1, w)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("mix %q: entry %d: %s given twice", s, i+1, k)
		}
		m[k] = n
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: all weights are 0", s)
	}
	return m, nil
}

// Target is one request a device may send, with the ETag of the latest
// 200 reply to it, which conditional requests send as if-none-match.
type Target struct {
	Kind    string
	Topic   string
	Payload []byte
	etag    atomic.Pointer[string]
}

// ETag returns the ETag of the latest 200 reply to the target, or "".
func (t *Target) ETag() string {
	if p := t.etag.Load(); p != nil {
		return *p
	}
	return ""
}

// Targets is what the fleet asks for: learned from the server at start.
type Targets struct {
	all    []*Target
	byKind [6][]*Target
	cond   []*Target // those a conditional request may repeat
}

// Len is the number of targets.
func (ts *Targets) Len() int { return len(ts.all) }

// Count returns how many targets of kind there are.
func (ts *Targets) Count(kind string) int { return len(ts.byKind[kindIndex(kind)]) }

// Add adds a target of kind (see [ParseMix]) with the ETag a conditional
// request to it sends (until a 200 reply brings another); it is for
// fleets asking a server that cannot be discovered.
func (ts *Targets) Add(kind, topic string, payload []byte, etag string) error {
	if kindIndex(kind) < 0 || kind == KindConditional {
		return fmt.Errorf("target %s: kind %q: want one of %s but conditional", topic, kind, strings.Join(kinds, ", "))
	}
	ts.add(&Target{Kind: kind, Topic: topic, Payload: payload}, etag)
	return nil
}

func (ts *Targets) add(t *Target, etag string) {
	ts.all = append(ts.all, t)
	k := kindIndex(t.Kind)
	ts.byKind[k] = append(ts.byKind[k], t)
	if t.Kind == KindCategories || t.Kind == KindList || t.Kind == KindGet {
		ts.cond = append(ts.cond, t)
	}
	if etag != "" {
		t.etag.Store(&etag)
	}
}

// Discover asks the server, as device dev, for its categories and a page
// of each (at most maxCategories, and 100 recipes each) and builds the
// targets from them: the categories, each category's list, each recipe,
// a search for a word of each recipe's title, and a recipe that does not
// exist.
func Discover(ctx context.Context, server string, dev Device, qos byte, maxCategories int) (*Targets, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := appliance.Dial(ctx, appliance.Options{Addr: server, ID: dev.ID, Password: dev.Secret, Anonymous: dev.Secret == "", QoS: max(qos, 1)})
	if err != nil {
		return nil, fmt.Errorf("discover the catalog as %s: %w", dev.ID, err)
	}
	defer func() { _ = c.Close() }()
	ask := func(topic string, payload []byte) (*appliance.Reply, error) {
		r, err := c.Ask(ctx, appliance.Request{Topic: topic, Payload: payload})
		if err != nil {
			return nil, fmt.Errorf("discover the catalog: %s: %w", topic, err)
		}
		if r.Status != 200 {
			return nil, fmt.Errorf("discover the catalog: %s: status %d: %s", topic, r.Status, r.Payload)
		}
		return r, nil
	}
	ts := &Targets{}
	r, err := ask("recipes/categories", nil)
	if err != nil {
		return nil, err
	}
	ts.add(&Target{Kind: KindCategories, Topic: "recipes/categories"}, r.ETag)
	var cats struct {
		Items []struct {
			Slug string `json:"slug"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.Data, &cats); err != nil {
		return nil, fmt.Errorf("discover the catalog: recipes/categories: %w", err)
	}
	if len(cats.Items) == 0 {
		return nil, fmt.Errorf("discover the catalog: the server publishes no categories")
	}
	listPayload := []byte(`{"limit":20}`)
	for i, cat := range cats.Items {
		if i == maxCategories {
			break
		}
		topic := "recipes/" + cat.Slug
		r, err := ask(topic, listPayload)
		if err != nil {
			return nil, err
		}
		ts.add(&Target{Kind: KindList, Topic: topic, Payload: listPayload}, r.ETag)
		ts.add(&Target{Kind: KindNotFound, Topic: topic + "/no-such-recipe-fleet-bench"}, "")
		if r, err = ask(topic, []byte(`{"limit":100}`)); err != nil {
			return nil, err
		}
		var page struct {
			Items []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"items"`
		}
		if err := json.Unmarshal(r.Data, &page); err != nil {
			return nil, fmt.Errorf("discover the catalog: %s: %w", topic, err)
		}
		words := map[string]bool{}
		for _, it := range page.Items {
			ts.add(&Target{Kind: KindGet, Topic: topic + "/" + it.ID}, "")
			if w := searchWord(it.Title); w != "" && !words[w] {
				words[w] = true
				q, _ := json.Marshal(map[string]any{"q": w, "limit": 20})
				ts.add(&Target{Kind: KindSearch, Topic: topic, Payload: q}, "")
			}
		}
	}
	return ts, nil
}

// searchWord is the first word of a title long enough to be searched for.
func searchWord(title string) string {
	for _, w := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len(w) >= 4 {
			return strings.ToLower(w)
		}
	}
	return ""
}

// pick chooses the next request: its kind by the mix, its target at
// random among that kind's. A kind the targets have none of (no recipes:
// no get) is replaced by a target of any kind.
func (b *bench) pick(rng *rand.Rand) (kind int, t *Target, etag string) {
	n := rng.IntN(b.mixTotal)
	for i, w := range b.mixWeights {
		if n < w {
			kind = i
			break
		}
		n -= w
	}
	ts := b.targets
	if kinds[kind] == KindConditional && len(ts.cond) > 0 {
		for range 8 {
			t = ts.cond[rng.IntN(len(ts.cond))]
			if etag = t.ETag(); etag != "" {
				return kind, t, etag
			}
		}
		return kind, t, ""
	}
	if list := ts.byKind[kind]; len(list) > 0 {
		return kind, list[rng.IntN(len(list))], ""
	}
	t = ts.all[rng.IntN(len(ts.all))]
	return kindIndex(t.Kind), t, ""
}

// etagOf finds the ETag in a reply's payload without decoding all of it:
// the envelope begins {"status":200,"etag":"…".
func etagOf(payload []byte) string {
	head := payload[:min(len(payload), 160)]
	i := bytes.Index(head, []byte(`"etag":"`))
	if i < 0 {
		return ""
	}
	rest := head[i+8:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
