package responder_test

import (
	"context"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/recipesd/recipesd/internal/appliance"
)

// TestForeignResponseTopicPublishesNothing: the server must never be usable
// to write into another device's topics, nor to publish to a wildcard.
func TestForeignResponseTopicPublishesNothing(t *testing.T) {
	s := mustServe(t)
	attacker := s.MustDial(t, appliance.Options{ID: "attacker"})
	victim := s.MustDial(t, appliance.Options{ID: "victim"})
	if _, err := victim.Subscribe(testContext(t, 5*time.Second), "devices/victim/#", 1); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 10*time.Second)
	for _, rt := range []string{
		"devices/victim/replies",
		"devices/attacker/+",
		"devices/attacker/#",
		"devices/+/replies",
		"recipes/soups",
		"devices/attacker",
	} {
		for _, qos := range []byte{0, 1} {
			_, pr, err := attacker.Send(ctx, appliance.Request{Topic: "recipes/categories", ResponseTopic: rt, QoS: &qos})
			if qos == 1 && (err == nil || pr == nil || pr.ReasonCode != 0x87) {
				t.Errorf("response topic %q at QoS 1: PUBACK %v, %v; want reason 0x87", rt, pr, err)
			}
		}
	}
	// A legitimate request after the refused ones proves the replies would
	// have had time to arrive.
	if r, err := attacker.Ask(ctx, appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("legitimate request: %v %v", r, err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := victim.Stray(); len(got) > 0 {
		t.Fatalf("victim received %d messages, first on %s", len(got), got[0].Topic)
	}
	if got := attacker.Stray(); len(got) > 0 {
		t.Fatalf("attacker received %d unexpected messages, first on %s", len(got), got[0].Topic)
	}
	st := s.Responder.Stats()
	if st.Refused != 12 {
		t.Errorf("refused = %d, want 12", st.Refused)
	}
	if st.Replies[200] != 1 {
		t.Errorf("replies 200 = %d, want exactly the legitimate one", st.Replies[200])
	}
}

func TestMissingResponseTopicIsDroppedAndCounted(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	pr, err := rawPublish(ctx, dev, "recipes/categories", nil)
	if err != nil || pr.ReasonCode != 0 {
		t.Fatalf("PUBACK %v %v, want success", pr, err)
	}
	if r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatal(r, err)
	}
	if got := len(dev.Stray()); got != 0 {
		t.Fatalf("%d replies to a request without Response Topic", got)
	}
	if got := s.Responder.Stats().NoResponseTopic; got != 1 {
		t.Fatalf("no-response-topic count = %d, want 1", got)
	}
}

func TestACL(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{ID: "acl-oven"})
	ctx := testContext(t, 5*time.Second)
	for filter, want := range map[string]byte{
		"devices/acl-oven/#":       1,
		"devices/acl-oven/replies": 1,
		"devices/other/#":          0x87,
		"devices/+/replies":        0x87,
		"recipes/#":                0x87,
		"#":                        0x87,
		"$SYS/#":                   0x87,
	} {
		code, _ := dev.Subscribe(ctx, filter, 1)
		if code != want {
			t.Errorf("subscribe %q: reason 0x%02x, want 0x%02x", filter, code, want)
		}
	}
	for topic, want := range map[string]byte{
		"devices/acl-oven/status": 0,
		"devices/other/status":    0x87,
		"elsewhere":               0x87,
	} {
		pr, err := rawPublish(ctx, dev, topic, nil)
		if pr == nil || pr.ReasonCode != want {
			t.Errorf("publish %q: %v %v, want reason 0x%02x", topic, pr, err, want)
		}
	}
}

// rawPublish publishes at QoS 1 with no Response Topic through the
// appliance's connection.
func rawPublish(ctx context.Context, dev *appliance.Client, topic string, payload []byte) (*paho.PublishResponse, error) {
	return dev.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
}
