package main

import (
	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

var _ admin.Previews = previews{}

// previews lets admin show the reply an appliance receives: the catalog
// finds or renders the document, the responder builds the reply.
type previews struct {
	*catalog.Store
	replies *responder.Responder
}

func (p previews) Reply(doc recipes.Document, to admin.ReplyTo) (admin.Reply, error) {
	r, err := p.replies.PreviewReply(doc, responder.ReplyTo{
		ResponseTopic: to.ResponseTopic, CorrelationLen: to.CorrelationLen, QoS: to.QoS, MaxPacketSize: uint32(to.MaxPacketSize),
	})
	if err != nil {
		return admin.Reply{}, err
	}
	out := admin.Reply{
		Payload: r.Payload, ContentType: r.ContentType, PayloadFormat: r.PayloadFormat, MessageExpiry: int(r.MessageExpiry), QoS: r.QoS,
		PacketSize: r.PacketSize, MaxPacketSize: int(r.MaxPacketSize), Refused: r.Refused,
	}
	for _, u := range r.User {
		out.User = append(out.User, admin.UserProperty{Key: u.Key, Value: u.Value})
	}
	return out, nil
}
