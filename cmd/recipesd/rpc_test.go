package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"go.uber.org/goleak"

	"github.com/recipesd/recipesd/cmd/internal/simulator"
	"github.com/recipesd/recipesd/internal/appliance"
)

// rpcClient calls POST /api/devices/:id/rpc. Unlike webClient it may be
// used from many goroutines: it returns errors instead of failing.
type rpcClient struct {
	url, token string
	http       *http.Client
}

func (s *testServer) MustRPCClient(tb testing.TB) *rpcClient {
	tb.Helper()
	token := s.MustToken(tb, s.MustSignIn(tb), randomName("rpc"))
	c := &rpcClient{url: s.HTTPURL, token: token, http: &http.Client{Timeout: 40 * time.Second}}
	tb.Cleanup(c.http.CloseIdleConnections)
	return c
}

// rpcAnswer is an HTTP reply of the rpc endpoint: the device's answer on
// 200, the server's error otherwise.
type rpcAnswer struct {
	HTTPStatus int
	Header     http.Header
	Raw        string

	Status int             `json:"status"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *rpcClient) Call(device string, body any, key string) (*rpcAnswer, error) {
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/api/devices/"+device+"/rpc", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	a := &rpcAnswer{HTTPStatus: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, a); err != nil {
		return a, fmt.Errorf("decode %q: %w", raw, err)
	}
	return a, nil
}

// MustCall calls and checks the HTTP status.
func (c *rpcClient) MustCall(tb testing.TB, device string, body any, wantHTTP int) *rpcAnswer {
	tb.Helper()
	a, err := c.Call(device, body, "")
	if err != nil {
		tb.Fatal(err)
	}
	if a.HTTPStatus != wantHTTP {
		tb.Fatalf("HTTP %d, want %d: %s", a.HTTPStatus, wantHTTP, a.Raw)
	}
	return a
}

type cmd struct {
	Method    string `json:"method"`
	Params    any    `json:"params,omitempty"`
	TimeoutMS int    `json:"timeout_ms,omitempty"`
}

// MustSimulator connects a device running the simulated machine.
func (s *testServer) MustSimulator(tb testing.TB, o appliance.Options, so simulator.Options) (*appliance.Client, *simulator.Machine) {
	tb.Helper()
	c := s.MustDial(tb, o)
	m, err := simulator.Start(testContext(tb, time.Minute), c, so)
	if err != nil {
		tb.Fatal(err)
	}
	return c, m
}

// eventually polls cond for up to 5 s.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDeviceRPCCommandTooLarge: a command larger than the Maximum Packet
// Size the device declared is refused before anything is sent — a device
// must treat such a packet as a protocol error and hang up — and the
// device stays connected and commandable.
func TestDeviceRPCCommandTooLarge(t *testing.T) {
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	dev, machine := s.MustSimulator(t, appliance.Options{MaxPacketSize: 1024}, simulator.Options{})
	big := cmd{Method: "recipe.install", Params: map[string]string{"id": strings.Repeat("x", 2000)}}
	a, err := api.Call(dev.ID, big, "")
	if err != nil || a.HTTPStatus != 413 || a.Error == nil || a.Error.Code != "too_large" ||
		!strings.Contains(a.Error.Message, "it accepts at most 1024); nothing was sent") {
		t.Fatalf("too large: %v %s", err, a.Raw)
	}
	if n := machine.Commands(); n != 0 {
		t.Fatalf("the device got %d commands", n)
	}
	a = api.MustCall(t, dev.ID, cmd{Method: "recipe.install", Params: map[string]string{"id": "soup"}}, 200)
	if a.Status != 200 {
		t.Fatalf("a command that fits: %s", a.Raw)
	}
	if got := s.Responder.Stats().Calls["too_large"]; got != 1 {
		t.Fatalf("too_large calls counted %d, want 1", got)
	}
}

func TestDeviceRPC(t *testing.T) {
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	dev, machine := s.MustSimulator(t, appliance.Options{}, simulator.Options{})

	t.Run("OK", func(t *testing.T) {
		a := api.MustCall(t, dev.ID, cmd{Method: "recipe.install", Params: map[string]any{"recipe": map[string]string{"id": "soup"}}}, 200)
		if a.Status != 200 || string(a.Result) != `{"installed":"soup"}` {
			t.Fatalf("answer %s", a.Raw)
		}
		// The body is the device's answer, and the response says so.
		if got := a.Header.Get("Answered-By"); got != "appliance "+dev.ID {
			t.Fatalf("Answered-By %q", got)
		}
	})
	t.Run("DeviceError", func(t *testing.T) {
		a := api.MustCall(t, dev.ID, cmd{Method: "program.start"}, 200)
		if a.Status != 409 || a.Error == nil || a.Error.Code != "lid_open" {
			t.Fatalf("answer %s, want 409 lid_open", a.Raw)
		}
		api.MustCall(t, dev.ID, cmd{Method: "lid.lock"}, 200)
		if a := api.MustCall(t, dev.ID, cmd{Method: "program.start"}, 200); a.Status != 200 {
			t.Fatalf("start: %s", a.Raw)
		}
		if a := api.MustCall(t, dev.ID, cmd{Method: "lid.unlock"}, 200); a.Status != 409 {
			t.Fatalf("unlock while running: %s", a.Raw)
		}
		if a := api.MustCall(t, dev.ID, cmd{Method: "program.stop"}, 200); a.Status != 200 {
			t.Fatalf("stop: %s", a.Raw)
		}
		if a := api.MustCall(t, dev.ID, cmd{Method: "self.destruct"}, 200); a.Status != 404 {
			t.Fatalf("unknown method: %s", a.Raw)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		a := api.MustCall(t, "no-such-oven", cmd{Method: "lid.lock"}, 404)
		if a.Error == nil || a.Error.Code != "not_found" {
			t.Fatalf("body %s", a.Raw)
		}
	})
	t.Run("ErrOffline", func(t *testing.T) {
		s.MustRegister(t, "oven-offline", testModel)
		start := time.Now()
		a := api.MustCall(t, "oven-offline", cmd{Method: "lid.lock", TimeoutMS: 5000}, 409)
		if a.Error == nil || a.Error.Code != "offline" || time.Since(start) > time.Second {
			t.Fatalf("body %s after %v", a.Raw, time.Since(start))
		}
		// Connected but not listening for commands: nothing is sent.
		deaf := s.MustDial(t, appliance.Options{})
		api.MustCall(t, deaf.ID, cmd{Method: "lid.lock"}, 409)
		time.Sleep(50 * time.Millisecond)
		if n := len(deaf.Stray()); n != 0 {
			t.Fatalf("device got %d messages", n)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, body := range []string{
			`{"method":`, `{}`, `{"method":""}`,
			`{"method":"lid.lock","timeout_ms":50}`, `{"method":"lid.lock","timeout_ms":30001}`,
			`{"method":"lid.lock","timeout_ms":"5s"}`,
		} {
			a, err := api.Call(dev.ID, body, "")
			if err != nil || a.HTTPStatus != 400 {
				t.Errorf("%s: %v %+v", body, err, a)
			}
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		anon := *api
		anon.token = ""
		if a, _ := anon.Call(dev.ID, cmd{Method: "lid.lock"}, ""); a == nil || a.HTTPStatus != 401 {
			t.Fatalf("got %+v", a)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		before := machine.Commands()
		var first string
		for i := range 3 {
			a, err := api.Call(dev.ID, cmd{Method: "recipe.install", Params: map[string]string{"id": "stew"}}, "key-1")
			if err != nil || a.HTTPStatus != 200 {
				t.Fatalf("%v %+v", err, a)
			}
			if i == 0 {
				first = a.Raw
			} else if a.Raw != first {
				t.Fatalf("retry got %s, first %s", a.Raw, first)
			}
		}
		if n := machine.Commands() - before; n != 1 {
			t.Fatalf("device commanded %d times, want 1", n)
		}
		// The same key for a different command is a client bug: answering
		// with the first outcome would answer a question not asked.
		a, err := api.Call(dev.ID, cmd{Method: "recipe.install", Params: map[string]string{"id": "goulash"}}, "key-1")
		if err != nil || a.HTTPStatus != 422 || a.Error == nil || a.Error.Code != "idempotency_key_reused" ||
			!strings.Contains(a.Error.Message, `The Idempotency-Key "key-1" was already used for a different command`) {
			t.Fatalf("reused key: %v %s", err, a.Raw)
		}
		if n := machine.Commands() - before; n != 1 {
			t.Fatalf("device commanded %d times after a reused key, want 1", n)
		}
	})
	st := s.Responder.Stats()
	if st.CallsPending != 0 || st.Calls["answered"] == 0 || st.Calls["offline"] == 0 {
		t.Fatalf("stats %+v", st)
	}
	// Staff see the same numbers on the dashboard.
	d := s.MustSignIn(t).Get("/dashboard").Want(200)
	for _, want := range []string{
		"Commands to appliances, since start",
		fmt.Sprintf("answered %d", st.Calls["answered"]), fmt.Sprintf("offline %d", st.Calls["offline"]),
		"waiting for an answer now: 0",
	} {
		if !strings.Contains(d.Text(), want) {
			t.Errorf("dashboard lacks %q:\n%s", want, excerpt(d.Text()))
		}
	}
}

func TestDeviceRPCTimeoutLateAnswer(t *testing.T) {
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	dev, _ := s.MustSimulator(t, appliance.Options{}, simulator.Options{Delay: 700 * time.Millisecond})
	start := time.Now()
	a := api.MustCall(t, dev.ID, cmd{Method: "lid.lock", TimeoutMS: 200}, 504)
	if took := time.Since(start); took > 600*time.Millisecond || a.Error.Code != "timeout" {
		t.Fatalf("504 after %v: %s", took, a.Raw)
	}
	eventually(t, "the late answer to be dropped", func() bool { return s.Responder.Stats().AnswersDropped == 1 })
	st := s.Responder.Stats()
	if st.CallsPending != 0 || st.Calls["timeout"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	s.MustSignIn(t).Get("/metrics").Want(200).Has(t, `recipesd_rpc_calls_total{outcome="timeout"} 1`,
		"recipesd_rpc_answers_dropped_total 1", "recipesd_rpc_calls_pending 0", "recipesd_rpc_call_latency_seconds_count 0")
}

// TestDeviceRPCForged sends answers the server must not accept: a random
// correlation, and a real one from another device.
func TestDeviceRPCForged(t *testing.T) {
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	ctx := testContext(t, 10*time.Second)

	target := s.MustDial(t, appliance.Options{})
	cmds := make(chan *appliance.Reply, 1)
	target.HandleCommands(func(r *appliance.Reply) { cmds <- r })
	if _, err := target.Subscribe(ctx, appliance.CommandTopic(target.ID), 1); err != nil {
		t.Fatal(err)
	}
	forger := s.MustDial(t, appliance.Options{})

	answer := func(c *appliance.Client, corr []byte, body string) {
		t.Helper()
		if _, err := c.Publish(ctx, &paho.Publish{Topic: "devices/" + c.ID + "/rpc/response", QoS: 1, Payload: []byte(body),
			Properties: &paho.PublishProperties{CorrelationData: corr}}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan *rpcAnswer, 1)
	go func() {
		a, _ := api.Call(target.ID, cmd{Method: "lid.lock", TimeoutMS: 5000}, "")
		done <- a
	}()
	var got *appliance.Reply
	select {
	case got = <-cmds:
	case <-ctx.Done():
		t.Fatal("no command")
	}
	if got.ResponseTopic != "devices/"+target.ID+"/rpc/response" || len(got.Correlation) != 16 || got.MessageExpiry == nil || *got.MessageExpiry > 5 {
		t.Fatalf("command %+v", got)
	}
	answer(target, []byte(rand.Text()), `{"status":200,"result":"forged"}`)
	answer(forger, got.Correlation, `{"status":200,"result":"stolen"}`)
	eventually(t, "forged answers dropped", func() bool { return s.Responder.Stats().AnswersDropped == 2 })
	answer(target, got.Correlation, `{"status":200,"result":"real"}`)
	answer(target, got.Correlation, `{"status":200,"result":"duplicate"}`)
	a := <-done
	if a == nil || a.HTTPStatus != 200 || string(a.Result) != `"real"` {
		t.Fatalf("got %+v", a)
	}
	eventually(t, "duplicate dropped", func() bool { return s.Responder.Stats().AnswersDropped == 3 })
	if n := s.Responder.Stats().CallsPending; n != 0 {
		t.Fatalf("%d calls pending", n)
	}
}

func TestDeviceRPCConcurrent(t *testing.T) {
	// 200 calls at once, each with several store round trips (token,
	// idempotency key, audit entry) on one miniredis: under a loaded -race
	// run some took longer than the default 800 ms, and a 503 is not what
	// this test is about.
	s := MustRunMain(t, func(c *Config) { c.StoreTimeout = 5 * time.Second })
	api := s.MustRPCClient(t)
	dev, _ := s.MustSimulator(t, appliance.Options{}, simulator.Options{Delay: 20 * time.Millisecond})
	const n = 200
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("r-%d", i)
			a, err := api.Call(dev.ID, cmd{Method: "recipe.install", Params: map[string]string{"id": id}, TimeoutMS: 20000}, "")
			switch {
			case err != nil:
				errs <- err
			case a.HTTPStatus != 200 || string(a.Result) != `{"installed":"`+id+`"}`:
				errs <- fmt.Errorf("call %d: %s", i, a.Raw)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := s.Responder.Stats(); st.CallsPending != 0 || st.Calls["answered"] != n || st.AnswersDropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDeviceRPCDisconnect(t *testing.T) {
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	dev, _ := s.MustSimulator(t, appliance.Options{}, simulator.Options{NoAnswer: true})
	done := make(chan *rpcAnswer, 1)
	go func() {
		a, _ := api.Call(dev.ID, cmd{Method: "lid.lock", TimeoutMS: 20000}, "")
		done <- a
	}()
	eventually(t, "the call to be pending", func() bool { return s.Responder.Stats().CallsPending == 1 })
	start := time.Now()
	_ = dev.Close()
	select {
	case a := <-done:
		if a == nil || a.HTTPStatus != 504 || a.Error.Code != "disconnected" {
			t.Fatalf("got %+v", a)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("call still waiting 3s after the device left")
	}
	t.Logf("failed %v after the disconnect", time.Since(start))
	if n := s.Responder.Stats().CallsPending; n != 0 {
		t.Fatalf("%d calls pending", n)
	}
}

// TestDeviceRPCReceiveMaximum1 has a device that takes one QoS 1 message
// at a time receive replies to its requests and commands at once.
func TestDeviceRPCReceiveMaximum1(t *testing.T) {
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	dev, _ := s.MustSimulator(t, appliance.Options{ReceiveMaximum: 1}, simulator.Options{})
	ctx := testContext(t, 30*time.Second)
	const n = 50
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := dev.Get(ctx, "recipes/categories", nil)
			if err != nil || r.Status != 200 {
				errs <- fmt.Errorf("request %d: %v %v", i, err, r)
			}
		})
		wg.Go(func() {
			id := fmt.Sprintf("r-%d", i)
			a, err := api.Call(dev.ID, cmd{Method: "recipe.install", Params: map[string]string{"id": id}, TimeoutMS: 20000}, "")
			if err != nil || a.HTTPStatus != 200 || string(a.Result) != `{"installed":"`+id+`"}` {
				errs <- fmt.Errorf("call %d: %v %+v", i, err, a)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDeviceRPCIdempotencyPerCaller: an Idempotency-Key belongs to the API
// token that sent it. Another token's same key is another call: it never
// gets the first token's outcome, nor collides with its command.
func TestDeviceRPCIdempotencyPerCaller(t *testing.T) {
	s := MustRunMain(t)
	alice, bob := s.MustRPCClient(t), s.MustRPCClient(t)
	dev, machine := s.MustSimulator(t, appliance.Options{}, simulator.Options{})
	install := func(id string) cmd {
		return cmd{Method: "recipe.install", Params: map[string]any{"recipe": map[string]string{"id": id}}}
	}
	call := func(c *rpcClient, body cmd, wantResult string, wantReplayed bool) {
		t.Helper()
		a, err := c.Call(dev.ID, body, "order-1")
		if err != nil || a.HTTPStatus != 200 || string(a.Result) != wantResult {
			t.Fatalf("%v %s, want result %s", err, a.Raw, wantResult)
		}
		if got := a.Header.Get("Idempotent-Replayed") == "true"; got != wantReplayed {
			t.Fatalf("replayed %v, want %v", got, wantReplayed)
		}
	}
	call(alice, install("stew"), `{"installed":"stew"}`, false)
	call(bob, install("goulash"), `{"installed":"goulash"}`, false) // not 422: not alice's key
	call(bob, install("goulash"), `{"installed":"goulash"}`, true)
	call(alice, install("stew"), `{"installed":"stew"}`, true)
	if n := machine.Commands(); n != 2 {
		t.Fatalf("device commanded %d times, want 2 (once per caller)", n)
	}
	// bob's same command under alice's key is bob's own first call.
	call(s.MustRPCClient(t), install("stew"), `{"installed":"stew"}`, false)
	if n := machine.Commands(); n != 3 {
		t.Fatalf("device commanded %d times, want 3", n)
	}
}

// TestDeviceRPCReplayedTimeout: a retry with the key of a call that timed
// out gets that outcome described as it was: the first call's timeout,
// not the retry's, and said to be a remembered outcome.
func TestDeviceRPCReplayedTimeout(t *testing.T) {
	s := MustRunMain(t)
	api := s.MustRPCClient(t)
	dev, machine := s.MustSimulator(t, appliance.Options{}, simulator.Options{Delay: 700 * time.Millisecond})
	a, err := api.Call(dev.ID, cmd{Method: "lid.lock", TimeoutMS: 200}, "lock-1")
	if err != nil || a.HTTPStatus != 504 || a.Error.Code != "timeout" || !strings.Contains(a.Error.Message, "within 200 ms.") {
		t.Fatalf("first call: %v %s", err, a.Raw)
	}
	a, err = api.Call(dev.ID, cmd{Method: "lid.lock", TimeoutMS: 9000}, "lock-1")
	if err != nil || a.HTTPStatus != 504 || a.Error.Code != "timeout" ||
		!strings.Contains(a.Error.Message, "did not answer within 200 ms.") ||
		!strings.Contains(a.Error.Message, `the remembered outcome of the first call with the Idempotency-Key "lock-1"; nothing was sent now`) ||
		a.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %v %s", err, a.Raw)
	}
	if n := machine.Commands(); n != 1 {
		t.Fatalf("device commanded %d times, want 1", n)
	}
}

// TestRecipeSendToAppliance is the recipe page's "Send to appliance".
func TestRecipeSendToAppliance(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	w.Get("/recipes/carrot-puree").Want(200).Has(t, "Send to appliance", "No appliance is connected.")
	dev, _ := s.MustSimulator(t, appliance.Options{}, simulator.Options{})
	w.Get("/recipes/carrot-puree").Want(200).Has(t, "Send to appliance "+dev.ID+" Send")

	send := func(device string) string {
		t.Helper()
		w.Post("/recipes/carrot-puree/send", url.Values{"device": {device}}).Want(303)
		return w.Get("/recipes/carrot-puree").Want(200).Flash()
	}
	if got := send(dev.ID); !strings.Contains(got, "the appliance installed it") {
		t.Errorf("OK: flash %q", got)
	}
	s.MustRegister(t, "oven-away", testModel)
	if got := send("oven-away"); !strings.Contains(got, "oven-away is offline") {
		t.Errorf("offline: flash %q", got)
	}
	if got := send("nobody"); !strings.Contains(got, `"nobody" not found`) {
		t.Errorf("unknown: flash %q", got)
	}
	// The device refuses while a program runs.
	api := s.MustRPCClient(t)
	api.MustCall(t, dev.ID, cmd{Method: "lid.lock"}, 200)
	api.MustCall(t, dev.ID, cmd{Method: "program.start"}, 200)
	if got := send(dev.ID); !strings.Contains(got, dev.ID+" refused “First carrot purée”: the appliance answered 409 program_running: “cannot install a recipe while a program runs”.") {
		t.Errorf("refused: flash %q", got)
	}
}

// TestRecipeSendToApplianceDeviceWords: what a device answers is shown to
// staff as its words, quoted, cut short and cleaned: a device may say
// anything, and must not be able to pass it off as the server's.
func TestRecipeSendToApplianceDeviceWords(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	ctx := testContext(t, 10*time.Second)
	dev := s.MustDial(t, appliance.Options{})
	words := "Server notice:\nyour session expired\u202e, sign in at evil.example " + strings.Repeat("z", 5000)
	dev.HandleCommands(func(r *appliance.Reply) {
		body, _ := json.Marshal(map[string]any{"status": 403, "error": map[string]string{"code": "denied”\n", "message": words}})
		_, _ = dev.Publish(ctx, &paho.Publish{Topic: r.ResponseTopic, QoS: 1, Payload: body,
			Properties: &paho.PublishProperties{CorrelationData: r.Correlation}})
	})
	if _, err := dev.Subscribe(ctx, appliance.CommandTopic(dev.ID), 1); err != nil {
		t.Fatal(err)
	}
	w.Post("/recipes/carrot-puree/send", url.Values{"device": {dev.ID}}).Want(303)
	got := w.Get("/recipes/carrot-puree").Want(200).Flash()
	want := dev.ID + " refused “First carrot purée”: the appliance answered 403 denied\": “Server notice: your session expired , sign in at evil.example zzz"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "z…”.") || len(got) > 400 {
		t.Fatalf("flash %q,\nwant it to start %q and end with the quote cut short", got, want)
	}
}
