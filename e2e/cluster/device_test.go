package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/recipesd/recipesd/internal/appliance"
)

// dial connects device id to the MQTT address addr.
func (f *fleet) dial(ctx context.Context, addr, id string) (*appliance.Client, error) {
	ka := uint16(10)
	return appliance.Dial(ctx, appliance.Options{Addr: addr, ID: id, Password: f.secret(id), KeepAlive: &ka})
}

// commandable connects device id to addr and answers every command with
// {"status":200,"result":{"device":id,"method":...}}.
func (f *fleet) commandable(t *testing.T, addr, id string) *appliance.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := f.dial(ctx, addr, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	c.HandleCommands(func(cmd *appliance.Reply) {
		var in struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(cmd.Payload, &in)
		body, _ := json.Marshal(map[string]any{"status": 200, "result": map[string]string{"device": id, "method": in.Method}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = c.Publish(ctx, &paho.Publish{
			Topic: cmd.ResponseTopic, QoS: 1, Payload: body,
			Properties: &paho.PublishProperties{CorrelationData: cmd.Correlation, ContentType: "application/json"},
		})
	})
	if _, err := c.Subscribe(ctx, appliance.CommandTopic(id), 1); err != nil {
		t.Fatal(err)
	}
	return c
}

// loadDevice is an appliance that keeps asking for the category list at
// QoS 1 through one address (HAProxy), reconnects whenever its
// connection ends, and then re-sends every request that got no reply
// with the same Correlation Data, as PROTOCOL.md §5 tells devices to.
type loadDevice struct {
	f        *fleet
	id, addr string
	every    time.Duration

	mu          sync.Mutex
	sending     bool
	answered    map[string]bool // correlation → answered at least once
	order       []string        // correlations in the order sent first
	statuses    map[int]int     // reply status → count
	connects    int
	disconnects map[byte]int // the server's DISCONNECT reason → count; 0xFF: closed without one
	references  []string     // Server References received
	lastReply   time.Time
	dialErrs    int
	lastDialErr error
}

func (f *fleet) newLoadDevice(id, addr string, every time.Duration) *loadDevice {
	return &loadDevice{f: f, id: id, addr: addr, every: every, sending: true,
		answered: map[string]bool{}, statuses: map[int]int{}, disconnects: map[byte]int{}}
}

// run drives the device until ctx ends.
func (d *loadDevice) run(ctx context.Context) {
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := d.f.dial(dctx, d.addr, d.id)
		cancel()
		if err != nil {
			d.mu.Lock()
			d.dialErrs++
			d.lastDialErr = err
			d.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		d.mu.Lock()
		d.connects++
		var resend []string
		for _, corr := range d.order {
			if !d.answered[corr] {
				resend = append(resend, corr)
			}
		}
		d.mu.Unlock()
		d.session(ctx, c, resend)
	}
}

// session sends on one connection until it ends (or ctx does).
func (d *loadDevice) session(ctx context.Context, c *appliance.Client, resend []string) {
	for _, corr := range resend {
		d.send(ctx, c, corr)
	}
	tick := time.NewTicker(d.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = c.Close()
			return
		case <-c.Done():
			// Why it ended is known a moment later (paho reports a
			// server's DISCONNECT only after the connection is closed).
			select {
			case <-c.Ended():
			case <-time.After(2 * time.Second):
			}
			reason := byte(0xFF)
			d.mu.Lock()
			if dc := c.ServerDisconnect(); dc != nil {
				reason = dc.ReasonCode
				if dc.Properties != nil && dc.Properties.ServerReference != "" {
					d.references = append(d.references, dc.Properties.ServerReference)
				}
			}
			d.disconnects[reason]++
			d.mu.Unlock()
			return
		case <-tick.C:
			d.mu.Lock()
			on := d.sending
			d.mu.Unlock()
			if on {
				d.send(ctx, c, randomHex(8))
			}
		}
	}
}

// send publishes one request with correlation corr and records its reply
// when it comes.
func (d *loadDevice) send(ctx context.Context, c *appliance.Client, corr string) {
	d.mu.Lock()
	if _, ok := d.answered[corr]; !ok {
		d.answered[corr] = false
		d.order = append(d.order, corr)
	}
	d.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ch, _, err := c.Send(sctx, appliance.Request{Topic: "recipes/categories", Correlation: []byte(corr)})
	if err != nil {
		return // not acknowledged: re-sent after the reconnect
	}
	go func() {
		select {
		case r := <-ch:
			d.mu.Lock()
			d.answered[corr] = true
			d.statuses[r.Status]++
			d.lastReply = time.Now()
			d.mu.Unlock()
		case <-c.Done():
		case <-ctx.Done():
		}
	}()
}

// stopSending stops new requests; re-sends after reconnects go on.
func (d *loadDevice) stopSending() {
	d.mu.Lock()
	d.sending = false
	d.mu.Unlock()
}

// stats returns what the device has seen so far.
func (d *loadDevice) stats() (sent, unanswered, connects int, lastReply time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ok := range d.answered {
		if !ok {
			unanswered++
		}
	}
	return len(d.order), unanswered, d.connects, d.lastReply
}

// load is a set of load devices running until stop.
type load struct {
	devs   []*loadDevice
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (f *fleet) startLoad(t *testing.T, ids []string, addr string, every time.Duration) *load {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	for _, id := range ids {
		d := f.newLoadDevice(id, addr, every)
		l.devs = append(l.devs, d)
		l.wg.Add(1)
		go func() { defer l.wg.Done(); d.run(ctx) }()
	}
	t.Cleanup(l.stop)
	return l
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// waitAnswered waits up to wait until every device has had a reply
// after since; it returns the devices that have not.
func (l *load) waitAnswered(since time.Time, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var late []string
		for _, d := range l.devs {
			if _, _, _, last := d.stats(); !last.After(since) {
				late = append(late, d.id)
			}
		}
		if len(late) == 0 || time.Now().After(deadline) {
			return late
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// drain stops new requests and waits up to wait until every request sent
// has been answered at least once; it returns an error naming the
// devices with requests never answered.
func (l *load) drain(wait time.Duration) error {
	for _, d := range l.devs {
		d.stopSending()
	}
	deadline := time.Now().Add(wait)
	for {
		var lost []string
		for _, d := range l.devs {
			if _, unanswered, _, _ := d.stats(); unanswered > 0 {
				d.mu.Lock()
				lost = append(lost, fmt.Sprintf("%s: %d unanswered (connects %d, disconnects %v, dial errors %d, last %v)",
					d.id, unanswered, d.connects, d.disconnects, d.dialErrs, d.lastDialErr))
				d.mu.Unlock()
			}
		}
		if len(lost) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New(fmt.Sprint(len(lost), " devices lost requests: ", lost))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// totals sums the devices' counters.
func (l *load) totals() (sent, connects int, statuses map[int]int, disconnects map[byte]int, references []string) {
	statuses, disconnects = map[int]int{}, map[byte]int{}
	for _, d := range l.devs {
		d.mu.Lock()
		sent += len(d.order)
		connects += d.connects
		for k, v := range d.statuses {
			statuses[k] += v
		}
		for k, v := range d.disconnects {
			disconnects[k] += v
		}
		references = append(references, d.references...)
		d.mu.Unlock()
	}
	return
}
