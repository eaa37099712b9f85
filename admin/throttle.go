package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/recipesd/recipesd/recipes"
)

// loginThrottle limits password guessing without letting one guesser lock
// everyone else out. It keeps three token buckets per attempt:
//
//   - address and account: failed sign-ins of this account from this
//     address. It takes a token before the password is checked (so that
//     parallel guesses count too) and is forgiven at a successful sign-in.
//     This is the limit a guesser meets first, and it is theirs alone: a
//     colleague behind the same NAT address signing in to another account
//     does not share it.
//   - address: failed sign-ins from this address, to any account; larger,
//     so that it stops one address trying many accounts (password
//     spraying) but not an office behind one NAT.
//   - account: failed sign-ins of this account, from anywhere; it stops
//     guessing one password from many addresses. Its price is that such
//     an attack also stops the account's owner for a while.
//
// Only failures are taken from the last two; an attempt refused by a limit
// is not a failure. They may go into debt when parallel attempts fail
// together, which then takes longer to refill. Addresses are keyed by
// IPv4 address or IPv6 /64, since one IPv6 host usually holds a whole /64.
type loginThrottle struct {
	mu      sync.Mutex
	pair    keyedLimiter
	address keyedLimiter
	account keyedLimiter
}

// Which limit refused an attempt.
const (
	limitPair    = "address and account"
	limitAddress = "address"
	limitAccount = "account"
)

// newLoginThrottle returns a throttle whose buckets hold pair, address and
// account failures and each refill completely in window.
func newLoginThrottle(pair, address, account int, window time.Duration) *loginThrottle {
	kl := func(burst int) keyedLimiter {
		return keyedLimiter{limit: rate.Limit(float64(burst) / window.Seconds()), burst: burst, m: map[string]*rate.Limiter{}}
	}
	return &loginThrottle{pair: kl(pair), address: kl(address), account: kl(account)}
}

// admit reports whether an attempt from client on account may go ahead
// and takes its token. When not, it returns which limit refused it and
// how long until that limit admits one more.
func (t *loginThrottle) admit(client, account string, now time.Time) (refused string, wait time.Duration) {
	a, n := addressKey(client), accountKey(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range []struct {
		name string
		kl   *keyedLimiter
		key  string
	}{{limitPair, &t.pair, a + "\x00" + n}, {limitAddress, &t.address, a}, {limitAccount, &t.account, n}} {
		if w := l.kl.wait(l.key, now); w > 0 {
			return l.name, w
		}
	}
	t.pair.get(a+"\x00"+n, now).AllowN(now, 1)
	return "", 0
}

// failed records a wrong name or password.
func (t *loginThrottle) failed(client, account string, now time.Time) {
	a, n := addressKey(client), accountKey(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.address.get(a, now).ReserveN(now, 1) // may go into debt
	t.account.get(n, now).ReserveN(now, 1)
}

// succeeded forgives the failures of this account from this address.
func (t *loginThrottle) succeeded(client, account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pair.m, addressKey(client)+"\x00"+accountKey(account))
}

// keyedLimiter is a token bucket per key. Its owner holds the lock.
type keyedLimiter struct {
	limit rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

// maxKeys bounds each keyedLimiter's memory.
const maxKeys = 10000

// wait returns how long until key's bucket holds a token; 0 if it does.
func (k *keyedLimiter) wait(key string, now time.Time) time.Duration {
	l, ok := k.m[key]
	if !ok {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(k.limit) * float64(time.Second))
}

func (k *keyedLimiter) get(key string, now time.Time) *rate.Limiter {
	l, ok := k.m[key]
	if !ok {
		if len(k.m) >= maxKeys {
			k.prune(now)
		}
		l = rate.NewLimiter(k.limit, k.burst)
		k.m[key] = l
	}
	return l
}

// prune drops the buckets that have refilled, which are as good as new;
// if that is not enough (someone is trying from very many addresses or
// names), arbitrary ones down to half: memory must stay bounded.
func (k *keyedLimiter) prune(now time.Time) {
	for key, l := range k.m {
		if l.TokensAt(now) >= float64(k.burst) {
			delete(k.m, key)
		}
	}
	if len(k.m) < maxKeys {
		return
	}
	for key := range k.m {
		if len(k.m) <= maxKeys/2 {
			break
		}
		delete(k.m, key)
	}
}

// addressKey is the part of a client address that one client controls:
// an IPv4 address, or an IPv6 /64.
func addressKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil {
		return client
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// accountKey is the account name as the store would find it. What was
// typed may be anything up to the body limit: a name that cannot be an
// account is keyed by its hash, so that it costs no more memory.
func accountKey(name string) string {
	name = strings.TrimSpace(name)
	if recipes.ValidName(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "#" + hex.EncodeToString(sum[:16])
}
