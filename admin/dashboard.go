package admin

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

type dashboardPage struct {
	page
	MQTTAddr  string
	HasStats  bool
	Window    string // how far back the charts go, like "15 min"
	Requests  int64
	Replies   []statusCount
	Dropped   []reasonCount
	P50, P99  string
	Connected int
	Charts    []chart

	// Commands to appliances, since start.
	Calls          []reasonCount
	CallsPending   int
	AnswersDropped int64
	CallP50        string // of answered calls, "–" when none
	CallP99        string

	// The cluster: every node sharing the store, with its devices, and
	// whether Connected counts them all.
	Nodes        []clusterNode
	NodesErr     string
	ClusterCount bool
	Routed       *routedView // nil when this process routes no commands
}

// routedView is this node's commands routed between nodes, since start.
type routedView struct {
	Sent, Received                 int64
	SentUnanswered, RecvUnanswered []reasonCount // by outcome, the ones that happened
	P50, P99                       string        // of sent ones, time to their outcome
}

// routedOf sums the commands by outcome of st's routed counters.
func routedOf(st stats) *routedView {
	if st.RoutedOut == nil && st.RoutedIn == nil {
		return nil
	}
	r := &routedView{P50: duration(recipes.Quantile(st.RoutedLatency, 0.5)), P99: duration(recipes.Quantile(st.RoutedLatency, 0.99))}
	sum := func(counts map[string]int64, total *int64, unanswered *[]reasonCount) {
		for _, o := range slices.Sorted(maps.Keys(counts)) {
			n := counts[o]
			*total += n
			if o != "answered" && n > 0 {
				*unanswered = append(*unanswered, reasonCount{Reason: strings.ReplaceAll(o, "_", " "), Count: n})
			}
		}
	}
	sum(st.RoutedOut, &r.Sent, &r.SentUnanswered)
	sum(st.RoutedIn, &r.Received, &r.RecvUnanswered)
	return r
}

// clusterNode is a node as the dashboard's cluster view shows it.
type clusterNode struct {
	recipes.Node
	This bool // the node serving this page
}

type statusCount struct {
	Status int
	Count  int64
	Class  string
}

type reasonCount struct {
	Reason string
	Count  int64
}

// handleDashboard shows the responder's traffic over the last minutes as
// server-drawn SVG charts: no script, no CDN, works offline.
func (s *Server) handleDashboard(c echo.Context) error {
	p := dashboardPage{
		page: s.page(c, "Dashboard", "dashboard"), MQTTAddr: s.opts.MQTTAddr, HasStats: s.opts.Metrics != nil,
		Window: minutes(s.opts.History),
	}
	p.Refresh = int(max(s.opts.SampleEvery, 5*time.Second) / time.Second)
	if p.HasStats {
		st := s.readStats()
		p.Requests, p.Connected = st.Requests, st.Connected
		p.P50, p.P99 = duration(st.P50), duration(st.P99)
		for _, code := range slices.Sorted(maps.Keys(st.Replies)) {
			p.Replies = append(p.Replies, statusCount{Status: code, Count: st.Replies[code], Class: statusClass(code)})
		}
		for _, r := range slices.Sorted(maps.Keys(st.Dropped)) {
			p.Dropped = append(p.Dropped, reasonCount{Reason: strings.ReplaceAll(r, "_", " "), Count: st.Dropped[r]})
		}
		p.Charts = s.charts(s.hist.all(), time.Now())
		for _, o := range slices.Sorted(maps.Keys(st.Calls)) {
			if n := st.Calls[o]; n > 0 {
				p.Calls = append(p.Calls, reasonCount{Reason: strings.ReplaceAll(o, "_", " "), Count: n})
			}
		}
		p.CallsPending, p.AnswersDropped = st.CallsPending, st.AnswersDropped
		p.CallP50, p.CallP99 = duration(recipes.Quantile(st.CallLatency, 0.5)), duration(recipes.Quantile(st.CallLatency, 0.99))
		p.Routed = routedOf(st)
	}
	s.clusterView(c, &p)
	return c.Render(http.StatusOK, "dashboard.html", p)
}

func statusClass(code int) string {
	switch {
	case code < 300:
		return "s2xx"
	case code < 400:
		return "s3xx"
	case code < 500:
		return "s4xx"
	}
	return "s5xx"
}

func minutes(d time.Duration) string { return strconv.Itoa(int(d.Minutes())) + " min" }

func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return strconv.Itoa(int(d.Microseconds())) + " µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// clusterView adds the nodes to p, and makes its connected count the
// cluster's: this node's own count, live, and each other live node's as
// of its last heartbeat. A registry that cannot be read is said so, and
// the count stays this node's.
func (s *Server) clusterView(c echo.Context, p *dashboardPage) {
	if s.opts.Nodes == nil {
		return
	}
	nodes, err := s.opts.Nodes.Nodes(c.Request().Context())
	if err != nil {
		s.log.Warn("dashboard: cannot list the nodes", "err", err)
		p.NodesErr = "The node registry cannot be read right now; the server log says why."
		if nodes == nil {
			return
		}
	}
	others := 0
	for _, n := range nodes {
		this := n.ID == s.opts.NodeID
		if this && p.HasStats {
			n.Devices = p.Connected // live, not as of the last heartbeat
		}
		if !this && n.Alive {
			others += n.Devices
		}
		p.Nodes = append(p.Nodes, clusterNode{Node: n, This: this})
	}
	if err == nil && len(nodes) > 1 {
		p.Connected += others
		p.ClusterCount = true
	}
}
