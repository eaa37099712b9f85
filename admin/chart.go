package admin

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// chart is one small line chart drawn by the template as inline SVG.
type chart struct {
	Title   string
	Unit    string
	Top     string // the value of the top grid line
	Mid     string
	Series  []series
	Left    string // label of the left edge, like "−15 min"
	Width   int
	Height  int
	ViewBox string
	Y       chartLayout
	Empty   bool
}

// chartLayout places a chart's labels.
type chartLayout struct {
	Mid, MidLabel, ZeroLabel, Axis, CenterX int
}

type series struct {
	Name   string
	Class  string
	Points string // SVG polyline points
	Last   string // the latest value, for the legend
}

const chartW, chartH = 560, 140

// charts turns consecutive samples into rates and windowed quantiles.
func (s *Server) charts(samples []sample, now time.Time) []chart {
	window := s.opts.History
	start := now.Add(-window)
	type point struct {
		t time.Time
		v float64
	}
	var reqs, ok, notMod, client, server, p50, p99, conn []point
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		dt := b.At.Sub(a.At).Seconds()
		if dt <= 0 {
			continue
		}
		rate := func(x, y int64) float64 { return math.Max(0, float64(y-x)/dt) }
		var r [4]float64
		for code, n := range b.Replies {
			idx := 3
			switch {
			case code == 304:
				idx = 1
			case code < 400:
				idx = 0
			case code < 500:
				idx = 2
			}
			r[idx] += rate(a.Replies[code], n)
		}
		reqs = append(reqs, point{b.At, rate(a.Requests, b.Requests)})
		ok = append(ok, point{b.At, r[0]})
		notMod = append(notMod, point{b.At, r[1]})
		client = append(client, point{b.At, r[2]})
		server = append(server, point{b.At, r[3]})
		d := delta(a.Latency, b.Latency)
		p50 = append(p50, point{b.At, ms(recipes.Quantile(d, 0.5))})
		p99 = append(p99, point{b.At, ms(recipes.Quantile(d, 0.99))})
		conn = append(conn, point{b.At, float64(b.Connected)})
	}
	draw := func(title, unit string, named ...any) chart {
		ch := chart{
			Title: title, Unit: unit, Left: "−" + minutes(window), Width: chartW, Height: chartH,
			ViewBox: fmt.Sprintf("-40 -8 %d %d", chartW+48, chartH+28),
			Y:       chartLayout{Mid: chartH / 2, MidLabel: chartH/2 + 4, ZeroLabel: chartH + 4, Axis: chartH + 18, CenterX: chartW / 2},
		}
		top := 0.0
		for i := 0; i < len(named); i += 3 {
			for _, p := range named[i+2].([]point) {
				top = math.Max(top, p.v)
			}
		}
		top = niceCeil(top)
		ch.Top, ch.Mid = number(top), number(top/2)
		ch.Empty = true
		for i := 0; i < len(named); i += 3 {
			pts := named[i+2].([]point)
			sr := series{Name: named[i].(string), Class: named[i+1].(string), Last: "–"}
			var b strings.Builder
			for _, p := range pts {
				if p.t.Before(start) {
					continue
				}
				x := float64(chartW) * p.t.Sub(start).Seconds() / window.Seconds()
				y := float64(chartH) * (1 - p.v/top)
				fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
				sr.Last = number(p.v)
				ch.Empty = false
			}
			sr.Points = strings.TrimSpace(b.String())
			ch.Series = append(ch.Series, sr)
		}
		return ch
	}
	return []chart{
		draw("Requests", "per second", "requests", "s-req", reqs),
		draw("Replies by status", "per second", "200", "s2xx", ok, "304", "s3xx", notMod, "4xx", "s4xx", client, "5xx", "s5xx", server),
		draw("Reply latency", "milliseconds", "p50", "s-p50", p50, "p99", "s-p99", p99),
		draw("Connected appliances", "", "connected", "s-conn", conn),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func number(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
