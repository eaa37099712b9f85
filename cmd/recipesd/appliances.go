package main

import (
	"context"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/responder"
)

var _ admin.Appliances = appliances{}

// appliances lets admin command devices through the responder: only the
// call's shape differs between the two.
type appliances struct{ *responder.Responder }

func (a appliances) Call(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error) {
	res, err := a.CallOnce(ctx, c.Caller, c.IdempotencyKey, c.Device, c.Method, c.Params, c.Timeout)
	return admin.ApplianceAnswer{Status: res.Status, Body: res.Body, Replayed: res.Replayed}, err
}
