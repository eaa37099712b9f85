package edge

import "strings"

// topicName reads a topic name of a PUBLISH or will: not empty (topic
// aliases are off, so an empty name names nothing) and without wildcards.
func (r *reader) topicName(what string) {
	t := r.str()
	switch {
	case r.err != nil:
	case t == "":
		r.fail(protocolError("empty %s", what))
	case strings.ContainsAny(t, "+#"):
		r.fail(protocolError("%s contains a wildcard", what))
	}
}

// topicFilter reads a topic filter and checks its wildcards: '#' only as
// the whole last level, '+' only as a whole level, and a complete
// $share/<group>/<filter>.
func (r *reader) topicFilter() string {
	f := r.str()
	if r.err != nil {
		return ""
	}
	check := f
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		group, filter, found := strings.Cut(rest, "/")
		if !found || group == "" || filter == "" || strings.ContainsAny(group, "+#") {
			r.fail(protocolError("malformed shared subscription %q", f))
			return ""
		}
		check = filter
	}
	if check == "" {
		r.fail(protocolError("empty topic filter"))
		return ""
	}
	levels := strings.Split(check, "/")
	for i, l := range levels {
		if (strings.Contains(l, "#") && (l != "#" || i != len(levels)-1)) ||
			(strings.Contains(l, "+") && l != "+") {
			r.fail(protocolError("misplaced wildcard in topic filter %q", f))
			return ""
		}
	}
	return f
}
