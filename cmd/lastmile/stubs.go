package main

import (
	"context"
	"errors"
)

var errTODO = errors.New("not yet available")

func cmdConnect(context.Context, *env, []string) error { return errTODO }
