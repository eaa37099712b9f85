package identity_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// oldLayout is a store as the release before Redis Cluster support wrote
// it, written raw: devices at {p}:dev:<id>, last-seen times in one hash
// {p}:devseen, staff sessions at {p}:staff:sess:<hash>.
type oldLayout struct {
	devices  []recipes.Device  // LastSeen zero: never seen
	secrets  map[string]string // id -> secret
	sessions map[string]string // session id -> staff name
}

func newOldLayout() oldLayout {
	o := oldLayout{secrets: map[string]string{}, sessions: map[string]string{}}
	seen := time.UnixMilli(1_700_000_000_123).UTC()
	for i := range 5 {
		d := recipes.Device{ID: fmt.Sprintf("oven-%d", i), Model: "CM-100", Enabled: i != 2,
			CreatedAt: time.UnixMilli(1_600_000_000_000 + int64(i)).UTC()}
		if i%2 == 0 {
			d.LastSeen = seen.Add(time.Duration(i) * time.Minute)
		}
		o.devices = append(o.devices, d)
		o.secrets[d.ID] = fmt.Sprintf("secret-of-%d", i)
	}
	o.sessions["session-id-alice-1"] = "alice"
	o.sessions["session-id-alice-2"] = "alice"
	o.sessions["session-id-bob"] = "bob"
	return o
}

// write stores o in rdb under prefix with the old key names.
func (o oldLayout) write(tb testing.TB, rdb redis.UniversalClient, prefix string) {
	tb.Helper()
	ctx := context.Background()
	p := "{" + prefix + "}:"
	for _, d := range o.devices {
		enabled := "0"
		if d.Enabled {
			enabled = "1"
		}
		must(tb, rdb.HSet(ctx, p+"dev:"+d.ID, "model", d.Model, "secret", secretHash(o.secrets[d.ID]),
			"enabled", enabled, "created", strconv.FormatInt(d.CreatedAt.UnixMilli(), 10)).Err())
		must(tb, rdb.SAdd(ctx, p+"devices", d.ID).Err())
		if !d.LastSeen.IsZero() {
			must(tb, rdb.HSet(ctx, p+"devseen", d.ID, strconv.FormatInt(d.LastSeen.UnixMilli(), 10)).Err())
		}
	}
	for _, name := range []string{"alice", "bob"} {
		must(tb, rdb.HSet(ctx, p+"staff:users", name, fmt.Sprintf(`{"name":%q,"password_hash":"x","role":"admin"}`, name)).Err())
	}
	for id, name := range o.sessions {
		hash := sha256Hex(id)
		must(tb, rdb.Set(ctx, p+"staff:sess:"+hash, fmt.Sprintf(`{"staff":%q,"role":"admin"}`, name), time.Hour).Err())
		must(tb, rdb.SAdd(ctx, p+"staff:usess:"+name, hash).Err())
	}
}

// check asserts that s serves everything o holds.
func (o oldLayout) check(tb testing.TB, s *identity.Store) {
	tb.Helper()
	ctx := context.Background()
	got, err := s.Devices(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if len(got) != len(o.devices) {
		tb.Fatalf("Devices = %d devices, want %d: %+v", len(got), len(o.devices), got)
	}
	for i, want := range o.devices {
		if got[i] != want {
			tb.Errorf("device %d = %+v, want %+v", i, got[i], want)
		}
		_, err := s.AuthenticateDevice(ctx, want.ID, o.secrets[want.ID])
		if want.Enabled && err != nil {
			tb.Errorf("AuthenticateDevice(%s): %v", want.ID, err)
		}
		if !want.Enabled && err == nil {
			tb.Errorf("AuthenticateDevice(%s) admitted a disabled device", want.ID)
		}
	}
	for id, name := range o.sessions {
		sess, err := s.Session(ctx, id, time.Hour)
		if err != nil || sess.Staff != name {
			tb.Errorf("Session(%s) = %+v, %v; want %s's", id, sess, err, name)
		}
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func openIdentity(tb testing.TB, env *testEnv) *identity.Store {
	tb.Helper()
	rdb, err := redisconn.New(env.URL, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	s, err := identity.Open(context.Background(), rdb, identity.Options{KeyPrefix: env.Prefix, PasswordCost: bcrypt.MinCost})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

// TestOpen_MovesOldLayout: a store of the first layout opens with every
// device, secret, enabled flag, last-seen time and staff session intact,
// keeping the sessions' time to live, and with no old key left; a second
// open changes nothing.
func TestOpen_MovesOldLayout(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	o := newOldLayout()
	o.write(t, env.RDB, env.Prefix)
	s := openIdentity(t, env)
	o.check(t, s)
	for _, k := range []string{env.Key("dev:oven-0"), env.Key("devseen"), env.Key("staff:sess:" + sha256Hex("session-id-bob"))} {
		if n := env.RDB.Exists(ctx, k).Val(); n != 0 {
			t.Errorf("%s left behind", k)
		}
	}
	ttl := env.RDB.PTTL(ctx, env.Plain("staff:sess:{"+sha256Hex("session-id-bob")+"}")).Val()
	if ttl <= 0 || ttl > time.Hour {
		t.Errorf("moved session's TTL %v, want at most an hour", ttl)
	}
	before := env.Snapshot(t)
	o.check(t, openIdentity(t, env))
	if after := env.Snapshot(t); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("a second open changed the store:\n%v\n%v", before, after)
	}
}

// TestOpen_ResumesMove: a move cut short (one device copied but its old
// key still there, one copied and deleted, a session copied) finishes on
// the next open, and a copy made before, or a write since, wins over the
// old key.
func TestOpen_ResumesMove(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	o := newOldLayout()
	o.write(t, env.RDB, env.Prefix)
	// oven-0: copied, old key still there, and re-keyed since the copy.
	o.secrets["oven-0"] = "rotated"
	must(t, env.RDB.HSet(ctx, env.Plain("dev:{oven-0}"), "model", "CM-100", "secret", secretHash("rotated"), "enabled", "1", "created", "1600000000000").Err())
	// oven-1: copied and its old key deleted.
	must(t, env.RDB.HSet(ctx, env.Plain("dev:{oven-1}"), "model", "CM-100", "secret", secretHash(o.secrets["oven-1"]), "enabled", "1", "created", "1600000000001").Err())
	must(t, env.RDB.Del(ctx, env.Key("dev:oven-1")).Err())
	// oven-4: seen since the copy of its time.
	o.devices[4].LastSeen = time.UnixMilli(1_800_000_000_000).UTC()
	must(t, env.RDB.Set(ctx, env.Plain("dev:{oven-4}:seen"), "1800000000000", 0).Err())
	// A session copied, its old key still there.
	h := sha256Hex("session-id-alice-1")
	must(t, env.RDB.Set(ctx, env.Plain("staff:sess:{"+h+"}"), `{"staff":"alice","role":"admin"}`, time.Hour).Err())

	o.check(t, openIdentity(t, env))
	if n := env.RDB.Exists(ctx, env.Key("dev:oven-0"), env.Key("staff:sess:"+h)).Val(); n != 0 {
		t.Errorf("%d old keys left behind", n)
	}
}

// TestOpen_ConcurrentMove: nodes starting at once move the keys once, and
// every one of them serves them all.
func TestOpen_ConcurrentMove(t *testing.T) {
	env := newEnv(t)
	o := newOldLayout()
	for i := range 300 { // more than one chunk
		o.devices = append(o.devices, recipes.Device{ID: fmt.Sprintf("zz-%04d", i), Model: "CM-200", Enabled: true, CreatedAt: time.UnixMilli(1).UTC()})
		o.secrets[fmt.Sprintf("zz-%04d", i)] = "s"
	}
	o.write(t, env.RDB, env.Prefix)
	const nodes = 4
	stores := make(chan *identity.Store, nodes)
	for range nodes {
		go func() {
			rdb, err := redisconn.New(env.URL, 0)
			if err != nil {
				t.Error(err)
				stores <- nil
				return
			}
			t.Cleanup(func() { _ = rdb.Close() })
			s, err := identity.Open(context.Background(), rdb, identity.Options{KeyPrefix: env.Prefix})
			if err != nil {
				t.Errorf("Open: %v", err)
			}
			stores <- s
		}()
	}
	for range nodes {
		if s := <-stores; s != nil {
			o.check(t, s)
		}
	}
}

// TestOpen_WaitsForMover: while another node holds the move's lock, Open
// waits, and goes on once that node is done.
func TestOpen_WaitsForMover(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	o := newOldLayout()
	o.write(t, env.RDB, env.Prefix)
	must(t, env.RDB.Set(ctx, env.Key("identity:migrating"), "another node", time.Minute).Err())
	opened := make(chan *identity.Store, 1)
	go func() {
		rdb, err := redisconn.New(env.URL, 0)
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { _ = rdb.Close() })
		s, err := identity.Open(ctx, rdb, identity.Options{KeyPrefix: env.Prefix})
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	select {
	case <-opened:
		t.Fatal("Open went on while another node held the lock")
	case <-time.After(300 * time.Millisecond):
	}
	must(t, env.RDB.Del(ctx, env.Key("identity:migrating")).Err()) // that node died; its lock expired
	select {
	case s := <-opened:
		o.check(t, s)
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not go on once the lock was gone")
	}
}

// TestOpen_MovesEmbedded: the embedded store on disk, written with the
// old names, opens moved, and the move survives a restart (the journal
// replays it).
func TestOpen_MovesEmbedded(t *testing.T) {
	dir := t.TempDir()
	o := newOldLayout()
	openEmb := func() *embedded.Store {
		emb, err := embedded.Open(context.Background(), embedded.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return emb
	}
	emb := openEmb()
	o.write(t, emb.Client(), identity.DefaultKeyPrefix)
	must(t, emb.Close())
	for range 2 {
		emb := openEmb()
		s, err := identity.Open(context.Background(), emb.Client(), identity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		o.check(t, s)
		must(t, emb.Close())
	}
}
