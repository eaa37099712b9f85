package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

var _ admin.Appliances = (*appliances)(nil)

// appliances adapts the responder's commands to admin: it knows which
// devices exist (the store) and translates the responder's errors into
// admin's.
type appliances struct {
	store     *identity.Store
	responder *responder.Responder
	anonymous bool // anonymous devices exist without being registered
}

// callErrors maps the responder's call errors to admin's.
var callErrors = []struct{ from, to error }{
	{responder.ErrDeviceOffline, admin.ErrApplianceOffline},
	{responder.ErrNotListening, admin.ErrApplianceOffline},
	{responder.ErrCallTimeout, admin.ErrApplianceTimeout},
	{responder.ErrDeviceGone, admin.ErrApplianceGone},
	{responder.ErrDeviceBusy, admin.ErrApplianceBusy},
	{responder.ErrBadAnswer, admin.ErrApplianceBadAnswer},
	{responder.ErrKeyReused, admin.ErrIdempotencyKeyReused},
	{responder.ErrTooManyKeys, admin.ErrTooManyIdempotencyKeys},
}

func (a *appliances) Call(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error) {
	if _, err := a.store.Device(ctx, c.Device); err != nil {
		if recipes.ErrorCode(err) != recipes.ENOTFOUND || !a.anonymous || !a.responder.Connected(c.Device) {
			return admin.ApplianceAnswer{}, err
		}
	}
	res, err := a.responder.CallOnce(ctx, c.Caller, c.IdempotencyKey, c.Device, c.Method, c.Params, c.Timeout)
	ans := admin.ApplianceAnswer{Status: res.Status, Body: res.Body, Replayed: res.Replayed}
	if err == nil {
		return ans, nil
	}
	var (
		tl *responder.CommandTooLargeError
		to *responder.CallTimeoutError
		tm *responder.TooManyKeysError
	)
	switch {
	case errors.As(err, &tl):
		return ans, fmt.Errorf("%w (%d bytes; it accepts at most %d)", admin.ErrCommandTooLarge, tl.Size, tl.Limit)
	case errors.As(err, &to):
		// The call's own timeout: for a replayed outcome, the first call's.
		return ans, fmt.Errorf("%w: %w", &admin.ApplianceTimeoutError{Timeout: to.Timeout}, err)
	case errors.As(err, &tm):
		return ans, fmt.Errorf("%w: %w", &admin.IdempotencyKeysError{Limit: tm.Limit, Caller: tm.Caller}, err)
	}
	for _, m := range callErrors {
		if errors.Is(err, m.from) {
			return ans, fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return ans, err
}

func (a *appliances) Connected() []string { return a.responder.ConnectedDevices() }
