package catalog

import (
	"encoding/base64"
	"strings"
)

// Key schema. {p} is "{"+KeyPrefix+"}": the braces are a Redis Cluster hash
// tag, so every key lands in one slot and any set of them can be WATCHed
// and changed in one MULTI/EXEC.
//
//	{p}:version              STRING  catalog version, INCR on every write
//	{p}:changes              channel PUBLISH <version> after every write
//
//	Published content, the only thing appliances ever see:
//	{p}:pub:cats             HASH    slug -> category JSON
//	{p}:pub:catorder         ZSET    score position, member slug
//	                                 (ZRANGE = by position, then slug)
//	{p}:pub:rcp:<id>         STRING  recipe JSON
//	{p}:pub:rcpcat           HASH    recipe id -> category slug
//	{p}:pub:sums:<slug>      HASH    recipe id -> summary JSON
//	{p}:pub:idx:<slug>       ZSET    score 0, member sortkey+"\x00"+id, where
//	                                 sortkey is the lower-cased title; lex
//	                                 order is the list order (title, then id)
//	{p}:catgen:<slug>        STRING  INCR whenever category slug is removed
//	                                 (published and draft alike); a recipe
//	                                 write WATCHes it instead of the
//	                                 catalog-wide category hashes (see write.go)
//
//	Editors' drafts (see queue_draft.go), never read by Find:
//	{p}:draft:cats           HASH    slug -> category JSON, for categories
//	                                 that are new or changed since publishing
//	{p}:draft:rcp:<id>       STRING  recipe JSON, for recipes that are new
//	                                 or changed since publishing
//	{p}:draft:rcps           HASH    recipe id -> category slug of each draft
//
//	The identity package owns the keys of devices, staff, sessions and API
//	tokens (see identity/keys.go). Those of one device or one session carry
//	a hash tag of their own, so no catalog transaction can hold them: a
//	seed writes devices after its MULTI/EXEC ([SyncDevices]).
//
// A list cursor is the base64url (unpadded) idx member of the last item
// returned; the next page starts after it.
type keys struct {
	prefix   string // "{"+KeyPrefix+"}:", for the draft keys
	version  string
	changes  string
	cats     string
	catorder string
	rcpcat   string
	rcpPfx   string
	sumsPfx  string
	idxPfx   string
}

func newKeys(prefix string) keys {
	p := "{" + prefix + "}:"
	return keys{
		prefix:   p,
		version:  p + "version",
		changes:  p + "changes",
		cats:     p + "pub:cats",
		catorder: p + "pub:catorder",
		rcpcat:   p + "pub:rcpcat",
		rcpPfx:   p + "pub:rcp:",
		sumsPfx:  p + "pub:sums:",
		idxPfx:   p + "pub:idx:",
	}
}

func (k keys) rcp(id string) string      { return k.rcpPfx + id }
func (k keys) draftCats() string         { return k.prefix + "draft:cats" }
func (k keys) draftRcps() string         { return k.prefix + "draft:rcps" }
func (k keys) draftRcp(id string) string { return k.prefix + "draft:rcp:" + id }

func (k keys) catGen(slug string) string { return k.prefix + "catgen:" + slug }
func (k keys) sums(slug string) string   { return k.sumsPfx + slug }
func (k keys) idx(slug string) string    { return k.idxPfx + slug }

// sortKey is the case-folded title recipes are listed by. Titles cannot
// contain NUL (validation rejects control characters), so NUL separates it
// from the id in index members.
func sortKey(title string) string { return strings.ToLower(title) }

func idxMember(title, id string) string { return sortKey(title) + "\x00" + id }

// idFromMember returns the id part of an index member.
func idFromMember(m string) (string, bool) {
	i := strings.LastIndexByte(m, 0)
	if i < 0 {
		return "", false
	}
	return m[i+1:], true
}

func encodeCursor(member string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(member))
}

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	m := string(b)
	if _, ok := idFromMember(m); !ok {
		return "", false
	}
	return m, true
}
