package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newGetCmd is a placeholder until its package lands.
func newGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get",
		Short: "not implemented yet",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("get: not implemented yet")
		},
	}
}
