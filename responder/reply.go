package responder

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
)

// Reply statuses of PROTOCOL.md §3.
const (
	StatusOK              = 200
	StatusNotModified     = 304
	StatusBadRequest      = 400
	StatusNotFound        = 404
	StatusTooLarge        = 413
	StatusTooManyRequests = 429
	StatusInternal        = 500
	StatusUnavailable     = 503
)

// statusCodes maps domain error codes to reply statuses: the one table of
// this transport (STYLE.md §5).
var statusCodes = map[string]int{
	recipes.EINVALID:     StatusBadRequest,
	recipes.ENOTFOUND:    StatusNotFound,
	recipes.ECONFLICT:    StatusBadRequest,
	recipes.EUNAVAILABLE: StatusUnavailable,
	recipes.EINTERNAL:    StatusInternal,
}

// errorCodes names each error status in the reply's error.code member.
var errorCodes = map[int]string{
	StatusBadRequest:      "bad_request",
	StatusNotFound:        "not_found",
	StatusTooLarge:        "too_large",
	StatusTooManyRequests: "rate_limited",
	StatusInternal:        "internal",
	StatusUnavailable:     "unavailable",
}

var statusText = func() map[int]string {
	m := map[int]string{}
	for _, s := range []int{200, 304, 400, 404, 413, 429, 500, 503} {
		m[s] = strconv.Itoa(s)
	}
	return m
}()

// encodeDocument builds {"status":200,"etag":"…","language":"…","data":…},
// without "language" when the document names none. ETags are hex and
// language tags letters, digits and hyphens (the catalog writes them
// canonical): neither needs escaping.
func encodeDocument(doc recipes.Document) []byte {
	b := make([]byte, 0, len(doc.Data)+len(doc.ETag)+languageLen(doc.Language)+40)
	b = append(b, `{"status":200,"etag":"`...)
	b = append(b, doc.ETag...)
	b = appendLanguage(b, doc.Language)
	b = append(b, `","data":`...)
	b = append(b, doc.Data...)
	return append(b, '}')
}

// encodeNotModified builds {"status":304,"etag":"…","language":"…"},
// without "language" when lang is empty.
func encodeNotModified(etag, lang string) []byte {
	b := make([]byte, 0, len(etag)+languageLen(lang)+32)
	b = append(b, `{"status":304,"etag":"`...)
	b = append(b, etag...)
	b = appendLanguage(b, lang)
	return append(b, `"}`...)
}

// languageLen is how many bytes appendLanguage adds.
func languageLen(lang string) int {
	if lang == "" {
		return 0
	}
	return len(`","language":"`) + len(lang)
}

// appendLanguage adds the "language" member after an open string value.
func appendLanguage(b []byte, lang string) []byte {
	if lang == "" {
		return b
	}
	b = append(b, `","language":"`...)
	return append(b, lang...)
}

type errorBody struct {
	Status int       `json:"status"`
	Error  errorInfo `json:"error"`
}

type errorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// encodeError builds {"status":4xx|5xx,"error":{"code":…,"message":…}}.
func encodeError(status int, message string) []byte {
	b, _ := json.Marshal(errorBody{Status: status, Error: errorInfo{Code: errorCodes[status], Message: message}})
	return b
}

// tooManyRequestsBody is the 429 reply, encoded once: a device over its
// rate gets one per request, and throttling must cost as little as can be.
// Payloads are only ever read.
var tooManyRequestsBody = encodeError(StatusTooManyRequests, "request rate exceeded; slow down")

// replyPacket builds the PUBLISH that answers req with body. "status"
// comes first (isTooManyRequests looks there). Like every user property
// of a reply, content-language survives a device that set Request Problem
// Information to 0 (deviceHook.OnPacketEncode).
func (r *Responder) replyPacket(req *request, status int, body []byte, now int64) *packets.Packet {
	var user []packets.UserProperty
	switch {
	case status == StatusTooManyRequests && req.retryAfter > 0:
		user = []packets.UserProperty{{Key: "status", Val: statusText[status]}, {Key: "retry-after", Val: strconv.Itoa(req.retryAfter)}}
	case (status == StatusOK || status == StatusNotModified) && req.language != "":
		user = []packets.UserProperty{{Key: "status", Val: statusText[status]}, {Key: "content-language", Val: req.language}}
	default:
		user = []packets.UserProperty{{Key: "status", Val: statusText[status]}}
	}
	return &packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: req.qos},
		TopicName:   req.responseTopic,
		Payload:     body,
		Properties: packets.Properties{
			ContentType:       "application/json",
			PayloadFormat:     1,
			PayloadFormatFlag: true,
			CorrelationData:   req.correlation,
			User:              user,
		},
		Created: now,
		// mochi's WritePacket turns Expiry into the remaining Message Expiry
		// Interval when the packet is written, so a reply that waited in an
		// offline device's outbox arrives with less time left, or not at all.
		Expiry: now + int64(r.opts.ReplyExpiry.Seconds()),
	}
}

// isTooManyRequests reports whether pk is a 429 reply.
func isTooManyRequests(pk *packets.Packet) bool {
	u := pk.Properties.User
	return len(u) > 0 && u[0].Key == "status" && u[0].Val == "429"
}

// packetSize returns the exact size of pk as mochi's WritePacket encodes
// it for an MQTT 5 device, to compare with the device's Maximum Packet
// Size before the write would fail: a reply exactly that size may be sent
// (MQTT 5 §3.1.2.11.4), so a bound would refuse replies that fit. pk must
// be shaped as it will be written ([session.Device.Shape]): its QoS
// decides the packet identifier and its Subscription Identifiers are
// properties. Arithmetic only: it runs for every reply.
func packetSize(pk *packets.Packet) int {
	p := &pk.Properties
	props := 0
	if p.PayloadFormatFlag {
		props += 2
	}
	if pk.Expiry > 0 { // WritePacket sets a Message Expiry Interval of at least 1
		props += 5
	}
	if p.ContentType != "" {
		props += 3 + len(p.ContentType)
	}
	// Written because every PUBLISH is encoded with AllowResponseInfo; a
	// Response Topic with a wildcard is left out.
	if p.ResponseTopic != "" && !strings.ContainsAny(p.ResponseTopic, "+#") {
		props += 3 + len(p.ResponseTopic)
	}
	if len(p.CorrelationData) > 0 {
		props += 3 + len(p.CorrelationData)
	}
	for _, id := range p.SubscriptionIdentifier {
		if id > 0 {
			props += 1 + varintLen(id)
		}
	}
	if p.TopicAliasFlag && p.TopicAlias > 0 {
		props += 3
	}
	// mochi drops the user properties only when they alone would break
	// the limit, and then the packet is refused anyway.
	for _, u := range p.User {
		props += 5 + len(u.Key) + len(u.Val)
	}
	remaining := 2 + len(pk.TopicName) + varintLen(props) + props + len(pk.Payload)
	if pk.FixedHeader.Qos > 0 {
		remaining += 2 // packet identifier
	}
	return 1 + varintLen(remaining) + remaining
}

// varintLen is the length of n as an MQTT Variable Byte Integer.
func varintLen(n int) int {
	switch {
	case n < 1<<7:
		return 1
	case n < 1<<14:
		return 2
	case n < 1<<21:
		return 3
	default:
		return 4
	}
}

// answer turns a catalog result into the reply for req and delivers it.
func (r *Responder) answer(req *request, doc recipes.Document, err error, inline bool) {
	if err != nil {
		status, ok := statusCodes[recipes.ErrorCode(err)]
		if !ok {
			status = StatusInternal
		}
		msg := recipes.ErrorMessage(err)
		switch status {
		case StatusInternal:
			trace := newTrace()
			msg = "internal error (trace " + trace + ")"
			r.log.Error("request failed", "trace", trace, "device", req.deviceID, "topic", req.topic,
				"correlation", hex.EncodeToString(req.correlation), "error", err)
		case StatusUnavailable:
			r.log.Warn("request not answered from the store", "device", req.deviceID, "topic", req.topic, "error", err)
		}
		r.answerStatus(req, status, msg, inline)
		return
	}
	req.language = doc.Language
	if req.ifNoneMatch != "" && req.ifNoneMatch == doc.ETag {
		r.send(req, StatusNotModified, encodeNotModified(doc.ETag, doc.Language), inline)
		return
	}
	r.send(req, StatusOK, encodeDocument(doc), inline)
}

func (r *Responder) answerStatus(req *request, status int, msg string, inline bool) {
	r.send(req, status, encodeError(status, msg), inline)
}

// sendTooMany answers req 429 with a hint of when to retry.
func (r *Responder) sendTooMany(req *request, retryAfter int) {
	req.retryAfter = retryAfter
	r.send(req, StatusTooManyRequests, tooManyRequestsBody, true)
}

// send delivers one reply to req's device, shrinking it to a 413 when it
// would exceed the device's Maximum Packet Size.
func (r *Responder) send(req *request, status int, body []byte, inline bool) {
	now := time.Now()
	if req.expired(now) {
		r.stats.expired.Add(1)
		return
	}
	d := req.dev
	if d == nil {
		d = r.devices.Get(req.deviceID)
	}
	if d == nil {
		r.stats.undeliverable.Add(1)
		return
	}
	pk := r.replyPacket(req, status, body, now.Unix())
	// Shaped first, so that the size is the one written; a device that
	// does not subscribe to the reply is not measured (Deliver drops it).
	if max := d.MaxPacketSize(); max > 0 && d.Shape(pk) && packetSize(pk) > int(max) {
		status = StatusTooLarge
		pk = r.replyPacket(req, status, encodeError(status,
			fmt.Sprintf("reply of %d bytes exceeds your Maximum Packet Size of %d; ask with a smaller limit", len(body), max)), now.Unix())
		if d.Shape(pk) && packetSize(pk) > int(max) {
			r.stats.undeliverable.Add(1)
			return
		}
	}
	if !d.Deliver(pk, inline, false) {
		r.stats.undeliverable.Add(1)
		return
	}
	r.stats.replied(status, now.Sub(req.received))
}

func newTrace() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
