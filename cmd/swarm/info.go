package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newInfoCmd is a placeholder until its package lands.
func newInfoCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "not implemented yet",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("info: not implemented yet")
		},
	}
}
