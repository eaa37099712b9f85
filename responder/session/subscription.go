package session

import "strings"

// A Subscription is one of a device's topic filters.
type Subscription struct {
	Filter string
	QoS    byte // granted, at most 1: the outbox sends at QoS 1 at most
	ID     int  // subscription identifier, 0 for none
}

// Subscribe adds s, or replaces the subscription to the same filter.
func (d *Device) Subscribe(s Subscription) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.subs {
		if d.subs[i].Filter == s.Filter {
			d.subs[i] = s
			return
		}
	}
	d.subs = append(d.subs, s)
}

// Unsubscribe removes the subscription to filter and reports whether
// there was one.
func (d *Device) Unsubscribe(filter string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.subs {
		if d.subs[i].Filter == filter {
			d.subs = append(d.subs[:i], d.subs[i+1:]...)
			return true
		}
	}
	return false
}

// match returns the highest QoS granted by the device's subscriptions that
// match topic and their subscription identifiers.
func (d *Device) match(topic string) (qos byte, ids []int, ok bool) {
	for _, s := range d.subs {
		if matchFilter(s.Filter, topic) {
			ok = true
			qos = max(qos, s.QoS)
			if s.ID > 0 {
				ids = append(ids, s.ID)
			}
		}
	}
	return qos, ids, ok
}

// Listening reports whether the device is online, and whether it
// subscribes to topic.
func (d *Device) Listening(topic string) (online, subscribed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, _, subscribed = d.match(topic)
	return d.cl != nil, subscribed
}

// matchFilter reports whether topic matches the MQTT topic filter.
func matchFilter(filter, topic string) bool {
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		if !fmore || !tmore {
			return fmore == tmore || (fmore && frest == "#")
		}
		filter, topic = frest, trest
	}
}
