package main

import (
	"context"
	"errors"
)

var errTODO = errors.New("not yet available")

func cmdDemo(context.Context, *env, []string) error    { return errTODO }
func cmdPlans(context.Context, *env, []string) error   { return errTODO }
func cmdApprove(context.Context, *env, []string) error { return errTODO }
func cmdReject(context.Context, *env, []string) error  { return errTODO }
func cmdAudit(context.Context, *env, []string) error   { return errTODO }
func cmdCheck(context.Context, *env, []string) error   { return errTODO }
func cmdConnect(context.Context, *env, []string) error { return errTODO }
