package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCreateCmd is a placeholder until its package lands.
func newCreateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "create",
		Short: "not implemented yet",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("create: not implemented yet")
		},
	}
}
