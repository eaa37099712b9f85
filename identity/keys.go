package identity

// Key schema. P is KeyPrefix and {p} is "{"+P+"}", the catalog's hash tag
// (one Redis Cluster slot). Keys of one device carry a hash tag of the
// device id, and staff sessions one of the session's hash, so that a
// Cluster spreads the fleet's keys and load over its masters; what must
// be atomic with something else shares a tag with it. Device ids are
// [A-Za-z0-9._:-] and session hashes hex, so neither holds a brace.
//
//	Devices (device*.go):
//	P:dev:{<id>}             HASH    model, secret ("sha256:<hex>"),
//	                                 enabled ("1"/"0"), created (unix ms)
//	P:dev:{<id>}:seen        STRING  last connect or disconnect (unix ms);
//	                                 a key of its own so that a touch never
//	                                 recreates a deleted device's hash nor
//	                                 makes its writes retry
//	{p}:devices              SET     every device id, for listing without
//	                                 SCAN; added before a device's hash is
//	                                 written and removed after it is
//	                                 deleted, so a write cut short leaves at
//	                                 most an id that lists nothing
//	{p}:devrevoked           channel PUBLISH <device id> (device_revoke.go)
//
//	Staff (staff.go, session.go, token.go):
//	{p}:staff:users          HASH    name -> staff JSON (bcrypt hash inside)
//	P:staff:sess:{<hash>}    STRING  session JSON, TTL = idle timeout; the
//	                                 key holds the hash of the session id
//	{p}:staff:usess:<name>   SET     session hashes of one staff account; in
//	                                 {p} with the accounts, so that a
//	                                 password change WATCHes both and ends
//	                                 every session listed when it commits
//	{p}:staff:tokens         HASH    token name -> API token JSON
//	{p}:staff:tokhash        HASH    hash of a token's secret -> name
//
//	Layout (migrate.go):
//	{p}:identity:layout      STRING  "2" once keys of the first layout
//	                                 ({p}:dev:<id>, {p}:devseen,
//	                                 {p}:staff:sess:<hash>) are moved
//	{p}:identity:migrating   STRING  the lock of the node moving them
//
// Every MULTI/EXEC, WATCH and script stays within one slot: a device's
// writes touch only its own keys (the id set is written apart, see
// above), a seed writes each device on its own (device_seed.go), and a
// session is written apart from its account's set (session.go).
type keys struct {
	prefix    string // "{"+KeyPrefix+"}:"
	plain     string // KeyPrefix+":"
	devices   string
	revoked   string
	users     string
	tokens    string
	tokHash   string
	layout    string
	migrating string
}

func newKeys(prefix string) keys {
	p := "{" + prefix + "}:"
	return keys{
		prefix:    p,
		plain:     prefix + ":",
		devices:   p + "devices",
		revoked:   p + "devrevoked",
		users:     p + "staff:users",
		tokens:    p + "staff:tokens",
		tokHash:   p + "staff:tokhash",
		layout:    p + "identity:layout",
		migrating: p + "identity:migrating",
	}
}

func (k keys) dev(id string) string             { return k.plain + "dev:{" + id + "}" }
func (k keys) seen(id string) string            { return k.plain + "dev:{" + id + "}:seen" }
func (k keys) session(hash string) string       { return k.plain + "staff:sess:{" + hash + "}" }
func (k keys) staffSessions(name string) string { return k.prefix + "staff:usess:" + name }

// Keys of the first layout, read only to move them (migrate.go).
func (k keys) oldDev(id string) string       { return k.prefix + "dev:" + id }
func (k keys) oldSeen() string               { return k.prefix + "devseen" }
func (k keys) oldSession(hash string) string { return k.prefix + "staff:sess:" + hash }
