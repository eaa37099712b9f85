package responder

import (
	"strings"
	"unicode/utf8"

	"github.com/recipesd/recipesd/recipes"
)

// Topic layout of PROTOCOL.md.
const (
	// RequestFilter is what the responder subscribes to.
	RequestFilter = "recipes/#"
	requestPrefix = "recipes/"
	devicePrefix  = "devices/"
	maxTopicBytes = 1024

	// CategoriesTopic is where a device asks for the category list.
	CategoriesTopic = requestPrefix + "categories"
)

// DeviceTopicPrefix returns the prefix under which device id owns its
// topics and must place its Response Topics: "devices/<id>/".
func DeviceTopicPrefix(id string) string { return devicePrefix + id + "/" }

// checkResponseTopic reports why a device may not receive replies on topic,
// or "" if it may. The server must never be usable to write into another
// device's topics, so only topics under the sender's own prefix pass, and
// mochi does not reject wildcards in a Response Topic, so we do.
func checkResponseTopic(deviceID, topic string) string {
	switch {
	case topic == "":
		return "missing"
	case len(topic) > maxTopicBytes:
		return "too long"
	case strings.ContainsAny(topic, "+#\x00"):
		return "contains a wildcard or NUL"
	case !utf8.ValidString(topic):
		return "not valid UTF-8"
	case !underDevice(topic, deviceID) || len(topic) == len(devicePrefix)+len(deviceID)+1:
		return "not under " + DeviceTopicPrefix(deviceID)
	}
	return ""
}

// validDeviceID reports whether id can be a device (and client) ID: it is a
// single topic level, so it must not be empty or contain / + # $ or control
// characters.
func validDeviceID(id string) bool {
	if id == "" || len(id) > 128 || !utf8.ValidString(id) {
		return false
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f || c == '/' || c == '+' || c == '#' || c == '$' {
			return false
		}
	}
	return true
}

// parseRequestTopic turns a request topic into the query it names.
func parseRequestTopic(topic string) (recipes.Query, error) {
	rest, ok := strings.CutPrefix(topic, requestPrefix)
	if !ok {
		return recipes.Query{}, recipes.Errorf(recipes.ENOTFOUND, "topic %q is not a request topic", topic)
	}
	if rest == "categories" {
		return recipes.Query{}, nil
	}
	category, id, hasID := strings.Cut(rest, "/")
	if strings.Contains(id, "/") {
		return recipes.Query{}, recipes.Errorf(recipes.ENOTFOUND,
			"topic %q names no resource; ask on recipes/categories, recipes/<category> or recipes/<category>/<recipe>", topic)
	}
	if !recipes.ValidSlug(category) {
		return recipes.Query{}, recipes.Errorf(recipes.ENOTFOUND, "category %q not found", category)
	}
	if !hasID {
		return recipes.Query{Category: category}, nil
	}
	if !recipes.ValidSlug(id) {
		return recipes.Query{}, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found in category %q", id, category)
	}
	return recipes.Query{Category: category, RecipeID: id}, nil
}

// underDevice reports whether topic lies under devices/<id>/, without
// allocating: it runs for every publish and subscription.
func underDevice(topic, id string) bool {
	rest, ok := strings.CutPrefix(topic, devicePrefix)
	return ok && len(rest) > len(id) && rest[len(id)] == '/' && rest[:len(id)] == id
}
