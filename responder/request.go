package responder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/session"
)

// MaxCorrelationData is the longest Correlation Data a request may carry.
const MaxCorrelationData = 256

// request is one appliance query on its way to a reply.
type request struct {
	deviceID      string
	topic         string
	responseTopic string
	correlation   []byte
	qos           byte
	ifNoneMatch   string
	acceptLang    string // the accept-language user properties, joined
	query         recipes.Query

	received time.Time
	expires  time.Time // zero: the request does not expire
	answerBy time.Time // when a store lookup gives up and answers 503

	dev        *session.Device // the asking device's session; nil for none
	retryAfter int             // seconds, on a 429
	language   string          // the reply's content-language, on a 200 or 304
}

func (q *request) expired(now time.Time) bool {
	return !q.expires.IsZero() && now.After(q.expires)
}

// newRequest reads the request in pk, received at now. It reports false
// for a request that cannot be answered, which is counted.
func (r *Responder) newRequest(pk packets.Packet, now time.Time) (*request, bool) {
	rt := pk.Properties.ResponseTopic
	if rt == "" {
		r.stats.noResponseTopic.Add(1)
		return nil, false
	}
	if checkResponseTopic(pk.Origin, rt) != "" {
		// The publish hook has refused it already; never answer it.
		r.stats.refused.Add(1)
		return nil, false
	}
	req := &request{
		deviceID:      pk.Origin,
		topic:         pk.TopicName,
		responseTopic: rt,
		correlation:   pk.Properties.CorrelationData,
		received:      now,
		answerBy:      now.Add(r.opts.StoreTimeout),
	}
	if pk.FixedHeader.Qos > 0 {
		req.qos = 1 // QoS 2 requests are answered at QoS 1
	}
	if mei := pk.Properties.MessageExpiryInterval; mei > 0 {
		req.expires = now.Add(time.Duration(mei) * time.Second)
	}
	for _, u := range pk.Properties.User {
		switch u.Key {
		case "if-none-match":
			req.ifNoneMatch = u.Val
		case "accept-language":
			// Repeated, they are one list, as repeated HTTP headers are.
			if req.acceptLang != "" {
				req.acceptLang += ", " + u.Val
			} else {
				req.acceptLang = u.Val
			}
		}
	}
	return req, true
}

// handleRequest is mochi's inline subscriber for recipes/#. It runs on the
// publishing device's connection goroutine, after mochi acknowledged the
// request, so it answers every request it is given; it only does work
// that cannot block: a cache hit is answered here, anything else goes to
// the pool.
func (r *Responder) handleRequest(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
	now := time.Now()
	r.stats.requests.Add(1)
	req, ok := r.newRequest(pk, now)
	if !ok {
		return
	}
	d := r.devices.Get(req.deviceID)
	req.dev = d
	if len(req.correlation) > MaxCorrelationData {
		r.answerStatus(req, StatusBadRequest, fmt.Sprintf("correlation data is %d bytes; the limit is %d", len(req.correlation), MaxCorrelationData), true)
		return
	}
	if d != nil {
		ok, full := d.TakeRequest(now)
		if !ok {
			r.tooManyRequests(req, d, now)
			return
		}
		d.WithinRate(now, full)
	}
	q, err := parseRequestTopic(pk.TopicName)
	if err == nil {
		err = parsePayload(pk.Properties.ContentType, pk.Payload, &q)
	}
	if err == nil {
		err = q.Validate()
	}
	if err == nil {
		err = wantLanguages(req.acceptLang, d, &q)
	}
	if err != nil {
		r.answer(req, recipes.Document{}, err, true)
		return
	}
	if d != nil {
		q.Model = d.Model()
	}
	req.query = q

	doc, err := r.catalog.FindCached(q)
	if !errors.Is(err, recipes.ErrUncached) {
		r.answer(req, doc, err, true)
		return
	}
	if !r.enqueue(req) {
		r.answer(req, recipes.Document{}, errBusy, true)
	}
}

// wantLanguages sets q.Languages: the request's accept-language tags, most
// preferred first, then the device's locale. Without accept-language it
// is the session's own slice, so that the common request allocates
// nothing for it. A malformed accept-language is EINVALID.
func wantLanguages(accept string, d *session.Device, q *recipes.Query) error {
	var locale []string
	if d != nil {
		locale = d.Languages()
	}
	if accept == "" {
		q.Languages = locale
		return nil
	}
	tags, err := recipes.ParseAcceptLanguage(accept)
	if err != nil {
		return recipes.Errorf(recipes.EINVALID, "%s", err.Error())
	}
	q.Languages = append(tags, locale...)
	return nil
}

// parsePayload reads the optional JSON object of a request into q.
func parsePayload(contentType string, payload []byte, q *recipes.Query) error {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || mt != "application/json" {
			return recipes.Errorf(recipes.EINVALID, "content type %q is not application/json", contentType)
		}
	}
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return nil
	}
	var opts struct {
		Q      json.RawMessage `json:"q"`
		Limit  json.RawMessage `json:"limit"`
		Cursor json.RawMessage `json:"cursor"`
	}
	if payload[0] != '{' || json.Unmarshal(payload, &opts) != nil {
		return recipes.Errorf(recipes.EINVALID, "payload must be empty or a JSON object")
	}
	if opts.Q != nil && json.Unmarshal(opts.Q, &q.Text) != nil {
		return recipes.Errorf(recipes.EINVALID, "q must be a string")
	}
	if opts.Cursor != nil && json.Unmarshal(opts.Cursor, &q.Cursor) != nil {
		return recipes.Errorf(recipes.EINVALID, "cursor must be a string")
	}
	if opts.Limit != nil {
		if err := json.Unmarshal(opts.Limit, &q.Limit); err != nil || q.Limit == 0 {
			return recipes.Errorf(recipes.EINVALID, "limit must be an integer between 1 and %d", recipes.MaxLimit)
		}
	}
	return nil
}
