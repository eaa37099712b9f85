// Package simulator is a cooking machine's firmware, as far as commands
// go (PROTOCOL.md §4): it answers recipe.install, program.start,
// program.stop, lid.lock and lid.unlock over an [appliance.Client].
// cmd/appliance runs it, and the end-to-end tests run it in-process.
package simulator

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/recipesd/recipesd/internal/appliance"
)

// Options tunes how the machine answers.
type Options struct {
	Delay    time.Duration // wait this long before answering
	NoAnswer bool          // never answer

	// Logf, if set, is told about every command and answer.
	Logf func(format string, args ...any)
}

// Machine is the simulated appliance's state. Its lid starts unlocked and
// no recipe is installed. The state outlives a connection: a machine
// that reconnects (to another server, say) keeps its lid and program.
type Machine struct {
	opts Options

	mu        sync.Mutex
	lidLocked bool
	recipe    string
	running   bool
	commands  int
}

// New returns a machine that answers as o says; [Machine.Attach] gives it
// a connection.
func New(o Options) *Machine { return &Machine{opts: o} }

// Attach subscribes c to its device topics (devices/<id>/#) and answers
// the commands that arrive on it until ctx ends or the connection closes.
// Call it again with each new connection.
func (m *Machine) Attach(ctx context.Context, c *appliance.Client) error {
	c.HandleCommands(func(cmd *appliance.Reply) { m.handle(ctx, c, cmd) })
	_, err := c.Subscribe(ctx, "devices/"+c.ID+"/#", 1)
	return err
}

// Start is [New] and [Machine.Attach].
func Start(ctx context.Context, c *appliance.Client, o Options) (*Machine, error) {
	m := New(o)
	if err := m.Attach(ctx, c); err != nil {
		return nil, err
	}
	return m, nil
}

// Serve is [Start] that returns only when ctx ends or the connection
// closes.
func Serve(ctx context.Context, c *appliance.Client, o Options) error {
	if _, err := Start(ctx, c, o); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-c.Done():
	}
	return nil
}

// Commands returns how many commands the machine has received.
func (m *Machine) Commands() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.commands
}

// Answer is what the machine sends back.
type Answer struct {
	Status int       `json:"status"`
	Result any       `json:"result,omitempty"`
	Error  *AnsError `json:"error,omitempty"`
}

// AnsError is an answer's error.
type AnsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func fail(status int, code, msg string) Answer {
	return Answer{Status: status, Error: &AnsError{Code: code, Message: msg}}
}

func (m *Machine) handle(ctx context.Context, c *appliance.Client, cmd *appliance.Reply) {
	m.mu.Lock()
	m.commands++
	m.mu.Unlock()
	ans := m.execute(cmd.Payload)
	m.logf("command %s -> %d", cmd.Payload, ans.Status)
	if m.opts.NoAnswer || cmd.ResponseTopic == "" {
		return
	}
	if m.opts.Delay > 0 {
		t := time.NewTimer(m.opts.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		case <-c.Done():
			return
		}
	}
	body, _ := json.Marshal(ans)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.Publish(ctx, &paho.Publish{
		Topic: cmd.ResponseTopic, QoS: 1, Payload: body,
		Properties: &paho.PublishProperties{CorrelationData: cmd.Correlation, ContentType: "application/json"},
	})
	if err != nil {
		m.logf("cannot answer: %v", err)
	}
}

// execute runs one command and returns the answer to it.
func (m *Machine) execute(payload []byte) Answer {
	var cmd struct {
		Method string `json:"method"`
		Params struct {
			ID     string `json:"id"`
			Recipe struct {
				ID string `json:"id"`
			} `json:"recipe"`
		} `json:"params"`
	}
	if err := json.Unmarshal(payload, &cmd); err != nil {
		return fail(400, "bad_request", "the command is not the JSON expected")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Method {
	case "recipe.install":
		id := cmd.Params.ID
		if id == "" {
			id = cmd.Params.Recipe.ID
		}
		if id == "" {
			return fail(400, "bad_request", "params.recipe.id (or params.id) is required")
		}
		if m.running {
			return fail(409, "program_running", "cannot install a recipe while a program runs")
		}
		m.recipe = id
		return Answer{Status: 200, Result: map[string]string{"installed": id}}
	case "program.start":
		switch {
		case !m.lidLocked:
			return fail(409, "lid_open", "close and lock the lid before starting a program")
		case m.recipe == "":
			return fail(409, "no_recipe", "install a recipe first")
		case m.running:
			return fail(409, "already_running", "a program is already running")
		}
		m.running = true
		return Answer{Status: 200, Result: map[string]string{"program": "running", "recipe": m.recipe}}
	case "program.stop":
		if !m.running {
			return fail(409, "not_running", "no program is running")
		}
		m.running = false
		return Answer{Status: 200, Result: map[string]string{"program": "stopped"}}
	case "lid.lock":
		m.lidLocked = true
		return Answer{Status: 200, Result: map[string]string{"lid": "locked"}}
	case "lid.unlock":
		if m.running {
			return fail(409, "program_running", "the lid stays locked while a program runs")
		}
		m.lidLocked = false
		return Answer{Status: 200, Result: map[string]string{"lid": "unlocked"}}
	}
	return fail(404, "unknown_method", "unknown method "+cmd.Method)
}

func (m *Machine) logf(format string, args ...any) {
	if m.opts.Logf != nil {
		m.opts.Logf(format, args...)
	}
}
