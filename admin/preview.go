package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Previews shows editors the exact reply an appliance receives for a
// recipe: what the published catalog serves it now, and what it would
// serve once the editors' copy is published (Options.Previews).
type Previews interface {
	// Languages returns the catalog's languages; EUNAVAILABLE.
	Languages(ctx context.Context) (recipes.Languages, error)
	// Find answers q from the published catalog exactly as an appliance
	// is answered: ENOTFOUND for a recipe that is not published or does
	// not suit q.Model, EUNAVAILABLE.
	Find(ctx context.Context, q recipes.Query) (recipes.Document, error)
	// DraftDocument renders r, an editors' copy, as Find would serve it
	// to q once published: ENOTFOUND when r does not suit q.Model,
	// EUNAVAILABLE.
	DraftDocument(ctx context.Context, r recipes.Recipe, q recipes.Query) (recipes.Document, error)
	// Reply returns the reply a device receives for doc, asked as to
	// says, built by the code that answers devices; EINVALID for a
	// ReplyTo no device could ask with.
	Reply(doc recipes.Document, to ReplyTo) (Reply, error)
}

// ReplyTo is what of a request shapes the size of its reply.
type ReplyTo struct {
	ResponseTopic  string
	CorrelationLen int  // bytes of Correlation Data, echoed back
	QoS            byte // of the request
	MaxPacketSize  int  // the device's; 0: the server's own, the default
}

// Reply is a reply as a device receives it.
type Reply struct {
	Payload       []byte // the exact bytes
	ContentType   string
	PayloadFormat byte
	MessageExpiry int // seconds
	QoS           byte
	User          []UserProperty // in order

	PacketSize    int  // the whole PUBLISH packet on the wire
	MaxPacketSize int  // what it was measured against
	Refused       bool // answered 413 instead, by the responder's rule
}

// UserProperty is an MQTT 5 User Property.
type UserProperty struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// The request the preview's replies answer: as the reference appliance
// asks (cmd/appliance), from a device with a short ID. A longer Response
// Topic adds its extra bytes to the packet, never to the payload.
const (
	previewResponseTopic = "devices/appliance/replies"
	previewCorrelation   = 16
	previewQoS           = 1
	maxCorrelation       = 256 // PROTOCOL.md §2
)

// Preview versions: what appliances get now, or once the draft is published.
const (
	versionPublished = "published"
	versionDraft     = "draft"
)

// Preview states besides a reply.
const (
	previewReply       = "reply"
	previewUnpublished = "unpublished" // no published version
	previewUnsuited    = "unsuited"    // the model gets 404
)

// previewCard is the recipe page's preview: the reply a device of Model
// asking in Language receives, for the published version and the draft.
type previewCard struct {
	Models    []string
	Languages []string // the catalog's, and Language if it is another
	Model     string
	Language  string
	Problem   string // a choice that cannot be previewed, and why

	Published, Draft *previewPane
}

// previewPane is one version's reply, or why there is none.
type previewPane struct {
	Version  string
	State    string
	Model    string
	Language string // the reply's content-language; "" if it names none
	Reply    Reply
	JSON     string // the payload indented for reading; Reply.Payload is what is sent
	Topic    string
}

// Percent is how much of the limit the packet uses, for the meter.
func (p *previewPane) Percent() int {
	if p.Reply.MaxPacketSize <= 0 {
		return 0
	}
	return min(100, p.Reply.PacketSize*100/p.Reply.MaxPacketSize)
}

// previewChoice is what a preview is asked for.
type previewChoice struct {
	version, model, lang string
	to                   ReplyTo
}

// parsePreviewChoice reads model and lang (either may be empty: the first
// model r names, or the first known; the catalog's default language) and
// checks them, naming the parameter that is wrong.
func parsePreviewChoice(r *recipes.Recipe, l recipes.Languages, modelParam, model, langParam, lang string) (previewChoice, error) {
	ch := previewChoice{model: model, lang: lang,
		to: ReplyTo{ResponseTopic: previewResponseTopic, CorrelationLen: previewCorrelation, QoS: previewQoS}}
	if ch.model == "" {
		ch.model = recipes.Models[0]
		if len(r.Models) > 0 {
			ch.model = r.Models[0]
		}
	}
	if !slices.Contains(recipes.Models, ch.model) {
		return ch, recipes.Errorf(recipes.EINVALID, "%s %q is not a known appliance model (%s)", modelParam, ch.model, strings.Join(recipes.Models, ", "))
	}
	if ch.lang == "" {
		ch.lang = l.Default
	}
	tag, err := recipes.ParseLanguage(ch.lang)
	if err != nil {
		return ch, recipes.Errorf(recipes.EINVALID, "%s: %v", langParam, err)
	}
	ch.lang = tag
	return ch, nil
}

// previewRecipe returns the reply a device asking as ch says receives for
// r's version ch.version, or the state that stands for it.
func (s *Server) previewRecipe(ctx context.Context, r recipes.Recipe, status recipes.Status, ch previewChoice) (*previewPane, error) {
	p := &previewPane{Version: ch.version, State: previewReply, Model: ch.model, Topic: ch.to.ResponseTopic}
	q := recipes.Query{Category: r.Category, RecipeID: r.ID, Model: ch.model, Languages: []string{ch.lang}}
	var doc recipes.Document
	var err error
	switch {
	case ch.version == versionPublished && status == recipes.Unpublished:
		p.State = previewUnpublished
		return p, nil
	case ch.version == versionPublished:
		doc, err = s.opts.Previews.Find(ctx, q)
	default:
		doc, err = s.opts.Previews.DraftDocument(ctx, r, q)
	}
	if recipes.ErrorCode(err) == recipes.ENOTFOUND {
		p.State = previewUnsuited
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	if p.Reply, err = s.opts.Previews.Reply(doc, ch.to); err != nil {
		return nil, err
	}
	p.Language = doc.Language
	var pretty bytes.Buffer
	if json.Indent(&pretty, p.Reply.Payload, "", "  ") != nil {
		return nil, fmt.Errorf("preview of recipe %s: the reply is not JSON: %q", r.ID, p.Reply.Payload)
	}
	p.JSON = pretty.String()
	return p, nil
}

// previewCard builds the recipe page's preview from the query parameters
// preview_model and preview_lang; nil without Options.Previews.
func (s *Server) previewCard(c echo.Context, r recipes.Recipe, status recipes.Status) (*previewCard, error) {
	if s.opts.Previews == nil {
		return nil, nil
	}
	ctx := c.Request().Context()
	l, err := s.opts.Previews.Languages(ctx)
	if err != nil {
		return nil, err
	}
	card := &previewCard{Models: recipes.Models, Languages: l.All()}
	ch, err := parsePreviewChoice(&r, l, "model", c.QueryParam("preview_model"), "language", c.QueryParam("preview_lang"))
	card.Model, card.Language = ch.model, ch.lang
	if !slices.Contains(card.Languages, card.Language) {
		card.Languages = append(card.Languages, card.Language)
	}
	if err != nil {
		card.Problem = recipes.ErrorMessage(err)
		return card, nil
	}
	ch.version = versionPublished
	if card.Published, err = s.previewRecipe(ctx, r, status, ch); err != nil {
		return nil, err
	}
	ch.version = versionDraft
	if card.Draft, err = s.previewRecipe(ctx, r, status, ch); err != nil {
		return nil, err
	}
	return card, nil
}

// apiPreview is the reply GET /api/recipes/:id/preview describes.
type apiPreview struct {
	Version          string         `json:"version"`
	Model            string         `json:"model"`
	Language         string         `json:"language"`
	Status           int            `json:"status"`
	Payload          string         `json:"payload"` // the exact bytes, as a string
	PayloadSize      int            `json:"payload_size"`
	Size             int            `json:"size"`
	MaxPacketSize    int            `json:"max_packet_size"`
	Refused          bool           `json:"refused"`
	ResponseTopic    string         `json:"response_topic"`
	CorrelationBytes int            `json:"correlation_bytes"`
	QoS              byte           `json:"qos"`
	ContentType      string         `json:"content_type"`
	PayloadFormat    byte           `json:"payload_format"`
	MessageExpiry    int            `json:"message_expiry"`
	UserProperties   []UserProperty `json:"user_properties"`
}

func (s *Server) apiRecipePreview(c echo.Context) error {
	if s.opts.Previews == nil {
		return recipes.Errorf(recipes.EUNAVAILABLE, "this server cannot preview replies")
	}
	ctx := c.Request().Context()
	r, status, err := s.store.EditorRecipe(ctx, param(c, "id"))
	if err != nil {
		return err
	}
	l, err := s.opts.Previews.Languages(ctx)
	if err != nil {
		return err
	}
	ch, err := parsePreviewChoice(&r, l, "model", c.QueryParam("model"), "lang", c.QueryParam("lang"))
	if err != nil {
		return err
	}
	switch ch.version = c.QueryParam("version"); ch.version {
	case "":
		ch.version = versionPublished
	case versionPublished, versionDraft:
	default:
		return recipes.Errorf(recipes.EINVALID, "version %q: must be %s or %s", ch.version, versionPublished, versionDraft)
	}
	if v := c.QueryParam("response_topic"); v != "" {
		ch.to.ResponseTopic = v
	}
	if ch.to.CorrelationLen, err = queryInt(c, "correlation_bytes", previewCorrelation, 0, maxCorrelation); err != nil {
		return err
	}
	qos, err := queryInt(c, "qos", previewQoS, 0, 2)
	if err != nil {
		return err
	}
	ch.to.QoS = byte(qos)
	if ch.to.MaxPacketSize, err = queryInt(c, "max_packet_size", 0, 0, 268435455); err != nil {
		return err
	}
	p, err := s.previewRecipe(ctx, r, status, ch)
	if err != nil {
		return err
	}
	switch p.State {
	case previewUnpublished:
		return recipes.Errorf(recipes.ENOTFOUND, "recipe %q is not published: appliances get 404 for it", r.ID)
	case previewUnsuited:
		return recipes.Errorf(recipes.ENOTFOUND, "recipe %q (%s version) does not suit model %s: appliances of that model get 404 for it", r.ID, ch.version, ch.model)
	}
	out := apiPreview{
		Version: p.Version, Model: p.Model, Language: p.Language, Status: http.StatusOK,
		Payload: string(p.Reply.Payload), PayloadSize: len(p.Reply.Payload), Size: p.Reply.PacketSize,
		MaxPacketSize: p.Reply.MaxPacketSize, Refused: p.Reply.Refused,
		ResponseTopic: ch.to.ResponseTopic, CorrelationBytes: ch.to.CorrelationLen, QoS: p.Reply.QoS,
		ContentType: p.Reply.ContentType, PayloadFormat: p.Reply.PayloadFormat, MessageExpiry: p.Reply.MessageExpiry,
		UserProperties: p.Reply.User,
	}
	if out.UserProperties == nil {
		out.UserProperties = []UserProperty{}
	}
	return c.JSON(http.StatusOK, out)
}

// Size, PayloadSize and Max write the sizes for people.
func (p *previewPane) Size() string        { return sizeText(p.Reply.PacketSize) }
func (p *previewPane) PayloadSize() string { return sizeText(len(p.Reply.Payload)) }
func (p *previewPane) Max() string         { return sizeText(p.Reply.MaxPacketSize) }

// sizeText writes n bytes for people: "1,234 bytes".
func sizeText(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " bytes"
}
