package main

import (
	"context"
	"errors"
)

var errTODO = errors.New("not yet available")

func connectHubSpot(context.Context, *env, []string) error   { return errTODO }
func connectWordPress(context.Context, *env, []string) error { return errTODO }
