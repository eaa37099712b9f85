package identity

// Key schema. {p} is "{"+KeyPrefix+"}", the catalog's hash tag: a seed
// writes devices in the catalog's MULTI/EXEC, which needs one Cluster slot.
//
//	Devices (device*.go):
//	{p}:dev:<id>             HASH    model, secret ("sha256:<hex>"),
//	                                 enabled ("1"/"0"), created (unix ms)
//	{p}:devices              SET     every device id, for listing without SCAN
//	{p}:devseen              HASH    device id -> last connect or
//	                                 disconnect (unix ms)
//	{p}:devrevoked           channel PUBLISH <device id> (device_revoke.go)
//
//	Staff (staff.go, session.go, token.go):
//	{p}:staff:users          HASH    name -> staff JSON (bcrypt hash inside)
//	{p}:staff:sess:<hash>    STRING  session JSON, TTL = idle timeout; the
//	                                 key holds the hash of the session id
//	{p}:staff:usess:<name>   SET     session hashes of one staff account
//	{p}:staff:tokens         HASH    token name -> API token JSON
//	{p}:staff:tokhash        HASH    hash of a token's secret -> name
type keys struct {
	prefix  string // "{"+KeyPrefix+"}:"
	devPfx  string
	devices string
	seen    string
	revoked string
	users   string
	tokens  string
	tokHash string
}

func newKeys(prefix string) keys {
	p := "{" + prefix + "}:"
	return keys{
		prefix:  p,
		devPfx:  p + "dev:",
		devices: p + "devices",
		seen:    p + "devseen",
		revoked: p + "devrevoked",
		users:   p + "staff:users",
		tokens:  p + "staff:tokens",
		tokHash: p + "staff:tokhash",
	}
}

func (k keys) dev(id string) string             { return k.devPfx + id }
func (k keys) session(hash string) string       { return k.prefix + "staff:sess:" + hash }
func (k keys) staffSessions(name string) string { return k.prefix + "staff:usess:" + name }
