package responder

import (
	"errors"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

func TestCallsTable(t *testing.T) {
	var cs calls
	a := &pendingCall{device: "oven-a", done: make(chan callOutcome, 1)}
	b := &pendingCall{device: "oven-b", done: make(chan callOutcome, 1)}
	cs.add("corr-a", a)
	cs.add("corr-b", b)

	if c := cs.take("corr-a", "oven-b"); c != nil {
		t.Fatal("an answer from another device was accepted")
	}
	if c := cs.take("unknown", "oven-a"); c != nil {
		t.Fatal("an unknown correlation was accepted")
	}
	if c := cs.take("corr-a", "oven-a"); c != a {
		t.Fatal("the real answer was not accepted")
	}
	if c := cs.take("corr-a", "oven-a"); c != nil {
		t.Fatal("a duplicate answer was accepted")
	}
	cs.failDevice("oven-b", recipes.ErrCallGone)
	if o := <-b.done; !errors.Is(o.err, recipes.ErrCallGone) {
		t.Fatalf("outcome %+v", o)
	}
	if n := cs.count(); n != 0 {
		t.Fatalf("%d calls pending", n)
	}
}
